"""The recommender service every front door uses: photos in, ranked products and a style guess out.

All model and FAISS work happens off the event loop; photos that arrive together share one forward pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import Engine, MicroBatcher
from engine.heads import Attributes
from index import CatalogIndex, Filters, IndexNotFoundError, SearchHit

from .pipeline import BuildProgress, BuildReport, build_index
from .rerank import RerankPolicy, ranked_search
from .settings import EngineSettings

log = logging.getLogger(__name__)

STYLE_NEIGHBOURS = 10


class ReindexInProgressError(RuntimeError):
    """A rebuild is already running; only one runs at a time."""


@dataclass(frozen=True)
class Query:
    """One embedded user photo, with what the trained head sees in it (None without a head)."""

    vector: np.ndarray
    attributes: Attributes | None = None


@dataclass(frozen=True)
class Guess:
    value: str
    confidence: float


@dataclass(frozen=True)
class Style:
    category: Guess | None
    colour: Guess | None
    gender: Guess | None
    usage: Guess | None


class Recommender:
    def __init__(self, engine: Engine, settings: EngineSettings, index: CatalogIndex, *,
                 max_batch: int = 16) -> None:
        self.engine = engine
        self.settings = settings
        self._index = index
        self._batcher: MicroBatcher[bytes, Query] = MicroBatcher(self._embed_batch, max_batch=max_batch,
                                                                 name="embed")
        self._reindex_lock = asyncio.Lock()
        self.rerank = RerankPolicy.of(engine.head, settings.rerank)

    @classmethod
    async def open(cls, settings: EngineSettings, *, build_demo_if_missing: bool = True) -> Recommender:
        engine = await asyncio.to_thread(Engine.load, settings.engine_config())
        index = await asyncio.to_thread(open_or_build_index, engine, settings, build_demo_if_missing)
        return cls(engine, settings, index)

    @property
    def index(self) -> CatalogIndex:
        return self._index

    @property
    def reindexing(self) -> bool:
        return self._reindex_lock.locked()

    async def photo(self, image_bytes: bytes) -> Query:
        """Decode and embed one photo; raises :class:`ImageDecodeError` for a bad one."""
        return await self._batcher.submit(image_bytes)

    async def search(self, query: Query, k: int, offset: int = 0,
                     filters: Filters | None = None) -> list[SearchHit]:
        index = self._index  # a reindex may swap it meanwhile; this query finishes on the one it began with
        return await asyncio.to_thread(ranked_search, index, query.vector, query.attributes, k, offset, filters,
                                       self.rerank)

    async def style(self, query: Query) -> Style:
        """What the photo shows: the trained head's predictions, else a vote of its nearest catalog items."""
        if query.attributes is not None:
            return head_style(query.attributes)
        return vote_style(await self.search(query, STYLE_NEIGHBOURS))

    async def reindex(self, feed_path: Path,
                      progress: Callable[[BuildProgress], None] | None = None) -> BuildReport:
        """Rebuild from a feed while serving the old index; ``progress`` is called on the event loop."""
        if self._reindex_lock.locked():
            raise ReindexInProgressError("a reindex is already running")
        async with self._reindex_lock:
            loop = asyncio.get_running_loop()
            on_progress = (lambda update: loop.call_soon_threadsafe(progress, update)) if progress else None
            report = await asyncio.to_thread(
                build_index, Path(feed_path), self.settings.index, self.engine,
                cache_dir=self.settings.cache_dir, progress=on_progress)
            self._index = await asyncio.to_thread(CatalogIndex.open, self.settings.index,
                                                  self.engine.fingerprint)
            log.info("reindex done: %s; now serving %d products", report.summary(), len(self._index))
            return report

    async def aclose(self) -> None:
        await self._batcher.aclose()
        self._index.close()

    def _embed_batch(self, blobs: list[bytes]) -> list[Query | Exception]:
        # Decoded the engine's way for its device: nvJPEG batched on CUDA, PIL on the CPU.
        batch, errors = self.engine.prepare_bytes(blobs)
        outcomes: list[Query | Exception | None] = list(errors)  # None: filled below
        slots = [position for position, error in enumerate(errors) if error is None]
        if slots:
            vectors, attributes = self.engine.embed_with_attributes(batch)
            for row, (position, vector) in enumerate(zip(slots, vectors, strict=True)):
                outcomes[position] = Query(vector, attributes[row] if attributes else None)
        return outcomes


def open_or_build_index(engine: Engine, settings: EngineSettings, build_if_missing: bool = True) -> CatalogIndex:
    """Open the configured index; with none there yet, build it from the configured catalog first."""
    try:
        return CatalogIndex.open(settings.index, engine.fingerprint)
    except IndexNotFoundError:
        if not build_if_missing:
            raise
    log.warning("no index at %s yet: building it from %s (first start; this takes a minute)",
                settings.index, settings.catalog)
    report = build_index(settings.catalog, settings.index, engine, cache_dir=settings.cache_dir)
    log.info("first index built: %s", report.summary())
    return CatalogIndex.open(settings.index, engine.fingerprint)


def head_style(attributes: Attributes) -> Style:
    """The attribute heads' top label per attribute, with its probability as the confidence."""
    def guess(attribute: str) -> Guess | None:
        top = attributes.top(attribute)
        return Guess(top[0], round(top[1], 3)) if top else None

    return Style(category=guess("category"), colour=guess("colour"), gender=guess("gender"), usage=guess("usage"))


def vote_style(hits: list[SearchHit]) -> Style:
    """Similarity-weighted vote over neighbours' labels; confidence is the winner's share of the weight."""
    labels = {
        "category": lambda p: p.extra.get("article_type") or (p.product_type or "").split(">")[-1].strip(),
        "colour": lambda p: p.color,
        "gender": lambda p: p.gender,
        "usage": lambda p: p.extra.get("usage"),
    }
    guesses = {}
    for attribute, label_of in labels.items():
        weights: dict[str, float] = defaultdict(float)
        for hit in hits:
            if label := label_of(hit.product):
                weights[label] += max(hit.score, 0.0) + 1e-6
        if weights:
            best = max(weights, key=weights.get)
            guesses[attribute] = Guess(best, round(weights[best] / sum(weights.values()), 3))
        else:
            guesses[attribute] = None
    return Style(**guesses)
