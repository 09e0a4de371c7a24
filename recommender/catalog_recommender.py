"""CatalogRecommender: the real :class:`~recommender.protocol.Recommender`, the engine over a FAISS catalog index.

All model and FAISS work happens off the event loop; photos that arrive together share one forward pass.
A rebuild runs aside under a lock and is swapped in whole; searches already running finish on the old index.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from engine import Engine, MicroBatcher
from index import CatalogIndex, CatalogLabels, Filters, IndexNotFoundError, SearchHit

from .indexing import BuildProgress, BuildReport, build_index
from .protocol import Query, ReindexInProgressError
from .rerank import RerankPolicy, ranked_search
from .settings import RecommenderSettings
from .style import Style, head_style, vote_style

log = logging.getLogger(__name__)

STYLE_NEIGHBOURS = 10


class CatalogRecommender:
    """Built complete by :meth:`open` (model loaded, index opened or first built, both off the loop)."""

    def __init__(self, engine: Engine, settings: RecommenderSettings, index: CatalogIndex, *,
                 max_batch: int = 16) -> None:
        self.engine = engine
        self.settings = settings
        self._index = index
        self._batcher: MicroBatcher[bytes, Query] = MicroBatcher(self._embed_batch, max_batch=max_batch,
                                                                 name="embed")
        self._reindex_lock = asyncio.Lock()
        self.rerank = RerankPolicy.of(engine.head, settings.rerank)

    @classmethod
    async def open(cls, settings: RecommenderSettings, *, build_demo_if_missing: bool = True) -> CatalogRecommender:
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
        """Decode and embed one photo; raises :class:`engine.ImageDecodeError` for a bad one."""
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

    async def labels(self) -> CatalogLabels:
        return await asyncio.to_thread(self._index.labels)

    async def product_query(self, product_id: str) -> Query | None:
        vector = await asyncio.to_thread(self._index.vector, product_id)
        return None if vector is None else Query(vector)

    async def collection_query(self, name: str) -> Query | None:
        vector = await asyncio.to_thread(self._index.centroid, Filters(collection=name))
        return None if vector is None else Query(vector)

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
                cache_dir=self.settings.cache_dir, progress=on_progress,
                allow_private_hosts=self.settings.allow_private_image_hosts,
                max_views=self.settings.max_images_per_product)
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


def open_or_build_index(engine: Engine, settings: RecommenderSettings,
                        build_if_missing: bool = True) -> CatalogIndex:
    """Open the configured index; with none there yet, build it from the configured catalog first."""
    try:
        return CatalogIndex.open(settings.index, engine.fingerprint)
    except IndexNotFoundError:
        if not build_if_missing:
            raise
    log.warning("no index at %s yet: building it from %s (first start; this takes a minute)",
                settings.index, settings.catalog)
    report = build_index(settings.catalog, settings.index, engine, cache_dir=settings.cache_dir,
                         allow_private_hosts=settings.allow_private_image_hosts,
                         max_views=settings.max_images_per_product)
    log.info("first index built: %s", report.summary())
    return CatalogIndex.open(settings.index, engine.fingerprint)
