"""The contract every front door relies on: photos in, ranked products and a style guess out, rebuilds.

:class:`~recommender.catalog_recommender.CatalogRecommender` is the real one; tests use a double that
satisfies the same protocol (``tests/recommender/test_protocol.py`` checks that their signatures agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from engine.attributes import Attributes
from index import CatalogLabels, Filters, SearchHit

from .indexing import BuildProgress, BuildReport
from .style import Style


class ReindexInProgressError(RuntimeError):
    """A rebuild is already running; only one runs at a time."""


@dataclass(frozen=True)
class Query:
    """One embedded user photo, with what the trained head sees in it (None without a head), and the fingerprint
    of the engine that embedded it: vectors of two engines (another backbone, a retrained head of the same width)
    live in different spaces, and the index answers only its own engine's (None: not known)."""

    vector: np.ndarray
    attributes: Attributes | None = None
    fingerprint: str | None = None


REGION_NAMES = ("top", "bottom", "full", "shoes", "bag", "whole")


@dataclass(frozen=True)
class Region:
    """One garment worn in a photo of a person (``top``, ``bottom``, ``full`` for a one-piece, ``shoes``,
    ``bag``), or the ``whole`` photo where no person is found: its box in pixels of the original photo
    (x0, y0, x1, y1), how prominent it is (0..1, regions come most prominent first), and its query, which
    searches with a prior toward the region's kind."""

    name: str
    box: tuple[int, int, int, int]
    query: Query
    prominence: float = 1.0


@runtime_checkable
class Recommender(Protocol):
    @property
    def min_similarity(self) -> float | None:
        """A photo whose best match is less similar than this found nothing close (None: never said)."""

    @property
    def reindexing(self) -> bool:
        """Whether a rebuild is running now."""

    @property
    def fingerprint(self) -> str:
        """The engine's fingerprint, which every :class:`Query` this recommender makes carries."""

    @property
    def build_id(self) -> str:
        """The index build being served (its directory's name); changes when a rebuild is swapped in."""

    @property
    def products_served(self) -> int:
        """Products in the index being served."""

    async def photo(self, image_bytes: bytes) -> Query:
        """Decode and embed one photo; raises :class:`engine.ImageDecodeError` for a bad one."""

    async def photo_regions(self, image_bytes: bytes) -> list[Region]:
        """The garments worn in a photo of a person, most prominent first, each with its query; a photo without
        a person (a flat-lay, a packshot, a hanger) gives the one region ``whole``, whose query is
        :meth:`photo`'s. Raises :class:`engine.ImageDecodeError` for a bad photo."""

    async def search(self, query: Query, k: int, offset: int = 0,
                     filters: Filters | None = None) -> list[SearchHit]:
        """Results ``offset .. offset+k`` for a photo, best first, under ``filters``."""

    async def style(self, query: Query) -> Style:
        """What the photo shows: category, colour, gender and usage, each with a confidence."""

    async def labels(self) -> CatalogLabels:
        """The labels the catalog's products carry, per filterable field, and its currencies."""

    async def product_query(self, product_id: str) -> Query | None:
        """A query for products like this catalog product (its own image); None when it is not in the catalog."""

    async def collection_query(self, name: str) -> Query | None:
        """A query that ranks a collection (products with ``name`` as a custom label) by how typical each is
        of it; None when no product carries it."""

    async def reindex(self, feed_path: Path,
                      progress: Callable[[BuildProgress], None] | None = None) -> BuildReport:
        """Rebuild from a feed while the old index serves; raises :class:`ReindexInProgressError` when one runs."""

    async def aclose(self) -> None:
        """Stop batching and close the index."""
