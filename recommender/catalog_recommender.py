"""CatalogRecommender: the real :class:`~recommender.protocol.Recommender`, the engine over a FAISS catalog index.

All model and FAISS work happens off the event loop; photos that arrive together share one forward pass.
A rebuild runs aside under a lock (shared by every worker with Redis) and is swapped in whole; searches already
running finish on the old index. A build published by another process (another worker's /reindex, or
``fashionbot index build`` into the same directory) is noticed and swapped in too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from redis.asyncio import Redis

from engine import MicroBatcher
from engine.runtime import EmbeddingEngine, load_engine
from index import CatalogIndex, CatalogLabels, Filters, FingerprintMismatchError, IndexNotFoundError, SearchHit
from index.store import resolve_build

from .build_lock import BuildLock, LocalBuildLock, RedisBuildLock
from .closeness import similarity_floor
from .indexing import BuildProgress, BuildReport, build_index
from .protocol import Query, Region
from .readiness import Phase, Readiness, configuration_warnings, what_runs
from .regions import OutfitFinder, Photo, decode, policy_for, whole
from .rerank import RerankPolicy, ranked_search
from .settings import RecommenderSettings
from .style import Style, head_style, vote_style

log = logging.getLogger(__name__)

STYLE_NEIGHBOURS = 10


class CatalogRecommender:
    """Built complete by :meth:`open` (model loaded, index opened or first built, both off the loop)."""

    def __init__(self, engine: EmbeddingEngine, settings: RecommenderSettings, index: CatalogIndex, *,
                 max_batch: int = 16, build_lock: BuildLock | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self._index = index
        self._batcher: MicroBatcher[Image.Image, Query] = MicroBatcher(self._embed_batch, max_batch=max_batch,
                                                                 name="embed")
        # Photos of people: the pose model (loaded on the first such photo) and their garments' crops, batched.
        self._outfits: MicroBatcher[Photo, list[Region]] = MicroBatcher(OutfitFinder(engine).regions,
                                                                       max_batch=max_batch, name="regions")
        self._build_lock = build_lock or LocalBuildLock()
        self._follower: asyncio.Task[None] | None = None
        self.rerank = RerankPolicy.of(engine.head, settings.rerank)
        self._min_similarity = similarity_floor(engine, settings.min_similarity)

    @classmethod
    async def open(cls, settings: RecommenderSettings, *, readiness: Readiness | None = None,
                   build_demo_if_missing: bool = True) -> CatalogRecommender:
        """Load the model, open the index (on a first start, build it: one worker builds, the others wait for
        it), and follow published builds every ``settings.follow_builds_s``.

        ``readiness`` follows it (the phase, a first build's progress, what runs and what it lacks); a
        configuration without the measured head is logged as a warning.
        """
        readiness = readiness if readiness is not None else Readiness()
        readiness.phase = Phase.LOADING
        engine = await asyncio.to_thread(load_engine, settings.engine_config())
        rerank, floor = RerankPolicy.of(engine.head, settings.rerank), similarity_floor(engine, settings.min_similarity)
        readiness.model = what_runs(engine, rerank=rerank is not None, floor=floor)
        readiness.warnings = configuration_warnings(engine.backbone_name, head=engine.head is not None,
                                                    rerank=rerank is not None, floor=floor)
        for warning in readiness.warnings:
            log.warning("%s", warning)
        url = settings.redis_address
        lock: BuildLock = RedisBuildLock(Redis.from_url(url)) if url else LocalBuildLock()
        try:
            index = await asyncio.to_thread(CatalogIndex.open, settings.index, engine.fingerprint)
        except (IndexNotFoundError, FingerprintMismatchError) as missing:
            if not build_demo_if_missing:
                raise
            if isinstance(missing, FingerprintMismatchError):  # e.g. another runtime, a retrained head: rebuild
                log.warning("%s — rebuilding it with this engine before serving", missing)
            readiness.phase = Phase.BUILDING
            loop = asyncio.get_running_loop()

            def on_progress(update: BuildProgress) -> None:
                loop.call_soon_threadsafe(readiness.building, update)

            async with lock.claim(wait=True):  # another worker may have built it while this one waited
                index = await asyncio.to_thread(open_or_build_index, engine, settings, progress=on_progress)
        recommender = cls(engine, settings, index, build_lock=lock)
        if settings.follow_builds_s:
            recommender._follower = asyncio.create_task(recommender._follow_builds(settings.follow_builds_s))
        return recommender

    @property
    def index(self) -> CatalogIndex:
        return self._index

    @property
    def min_similarity(self) -> float | None:
        return self._min_similarity

    @property
    def fingerprint(self) -> str:
        return self.engine.fingerprint

    @property
    def build_id(self) -> str:
        return self._index.directory.name

    @property
    def products_served(self) -> int:
        return len(self._index)

    @property
    def reindexing(self) -> bool:
        return self._build_lock.held

    async def photo(self, image_bytes: bytes) -> Query:
        """Decode and embed one photo; raises :class:`engine.ImageDecodeError` for a bad one.

        Each photo decodes on a thread of its own as it arrives (PIL lets go of the GIL), overlapping the batch
        the model is running; the batch then gets decoded images, and a bad photo never joins one."""
        image = await asyncio.to_thread(self.engine.decode, image_bytes)
        return await self._batcher.submit(image)

    async def photo_regions(self, image_bytes: bytes) -> list[Region]:
        """The garments a person wears, each searched toward its kind (recommender/regions.py); a photo without a
        person is the one region ``whole`` with :meth:`photo`'s query (the same decoded image, the same batches:
        such a photo pays the pose detector on top, nothing else)."""
        photo = await asyncio.to_thread(decode, self.engine, image_bytes)
        return await self._outfits.submit(photo) or [whole(photo.size, await self._batcher.submit(photo.image))]

    async def search(self, query: Query, k: int, offset: int = 0,
                     filters: Filters | None = None) -> list[SearchHit]:
        if query.fingerprint is not None and query.fingerprint != self.fingerprint:  # ranked, it would look right
            raise ValueError(f"a query of engine {query.fingerprint} cannot search engine {self.fingerprint}'s index")
        index = self._index  # a reindex may swap it meanwhile; this query finishes on the one it began with
        return await asyncio.to_thread(ranked_search, index, query.vector, query.attributes, k, offset, filters,
                                       policy_for(query, self.rerank))

    async def style(self, query: Query) -> Style:
        """What the photo shows: the trained head's predictions, else a vote of its nearest catalog items."""
        if query.attributes is not None:
            return head_style(query.attributes)
        return vote_style(await self.search(query, STYLE_NEIGHBOURS))

    async def labels(self) -> CatalogLabels:
        return await asyncio.to_thread(self._index.labels)

    async def product_query(self, product_id: str) -> Query | None:
        vector = await asyncio.to_thread(self._index.vector, product_id)
        return None if vector is None else Query(vector, fingerprint=self.fingerprint)

    async def collection_query(self, name: str) -> Query | None:
        vector = await asyncio.to_thread(self._index.centroid, Filters(collection=name))
        return None if vector is None else Query(vector, fingerprint=self.fingerprint)

    async def reindex(self, feed_path: Path,
                      progress: Callable[[BuildProgress], None] | None = None) -> BuildReport:
        """Rebuild from a feed while serving the old index; ``progress`` is called on the event loop."""
        async with self._build_lock.claim(wait=False):  # ReindexInProgressError while one runs anywhere
            loop = asyncio.get_running_loop()

            def on_progress(update: BuildProgress) -> None:  # called on the build's thread
                if progress is not None:
                    loop.call_soon_threadsafe(progress, update)

            report = await asyncio.to_thread(
                build_index, Path(feed_path), self.settings.index, self.engine,
                cache_dir=self.settings.cache_dir, progress=on_progress,
                allow_private_hosts=self.settings.allow_private_image_hosts,
                max_views=self.settings.max_images_per_product)
            self._index = await asyncio.to_thread(CatalogIndex.open, self.settings.index,
                                                  self.engine.fingerprint)
            log.info("reindex done: %s; now serving build %s (%d products)", report.summary(), self.build_id,
                     len(self._index))
            return report

    async def aclose(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
        await self._batcher.aclose()
        await self._outfits.aclose()
        await self._build_lock.aclose()
        self._index.close()

    async def _follow_builds(self, interval_s: float) -> None:
        """Swap in a build that another process published (its ``current`` link moved), off the loop."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                published = await asyncio.to_thread(resolve_build, self.settings.index)
                if published != self._index.directory and not self.reindexing:
                    self._index = await asyncio.to_thread(CatalogIndex.open, self.settings.index,
                                                          self.engine.fingerprint)
                    log.info("now serving build %s (%d products), published by another process",
                             self.build_id, len(self._index))
            except Exception as error:  # the served index stays; the next look may succeed
                log.warning("could not follow the published index build: %s", error)

    def _embed_batch(self, images: list[Image.Image]) -> list[Query | Exception]:
        vectors, attributes = self.engine.embed_photos(images)
        return [_query(vectors, attributes, row, self.fingerprint) for row in range(len(images))]


def _query(vectors, attributes, row: int, fingerprint: str) -> Query:
    return Query(vectors[row], attributes[row] if attributes else None, fingerprint)


def open_or_build_index(engine: EmbeddingEngine, settings: RecommenderSettings, build_if_missing: bool = True, *,
                        progress: Callable[[BuildProgress], None] | None = None) -> CatalogIndex:
    """Open the configured index; with none there yet, build it from the configured catalog first (``progress``
    is called from the build's thread)."""
    try:
        return CatalogIndex.open(settings.index, engine.fingerprint)
    except (IndexNotFoundError, FingerprintMismatchError) as missing:
        if not build_if_missing:
            raise
        log.warning("%s: building it from %s with this engine (this takes a minute)",
                    "no index yet" if isinstance(missing, IndexNotFoundError) else missing, settings.catalog)
    report = build_index(settings.catalog, settings.index, engine, cache_dir=settings.cache_dir,
                         allow_private_hosts=settings.allow_private_image_hosts,
                         max_views=settings.max_images_per_product, progress=progress)
    log.info("first index built: %s", report.summary())
    return CatalogIndex.open(settings.index, engine.fingerprint)
