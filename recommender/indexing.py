"""The index build pipeline: feed → images (read ahead) → decode (a batch ahead) → embed → FAISS, published whole.

Fetching runs on a thread of its own with a bounded read-ahead; decoding a batch ahead of the model is the
engine's (:func:`engine.prefetch.decode_ahead`: PIL threads on the CPU, nvJPEG on a side stream on CUDA).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from catalog import ImageFetcher, ImageResult, Product, read_feed
from engine import Engine
from engine.prefetch import decode_ahead
from index import IndexWriter, Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildProgress:
    done: int
    total: int
    items_per_s: float

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


@dataclass
class BuildReport:
    indexed: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (product id or "line N", reason)
    seconds: float = 0.0
    index_dir: Path | None = None
    manifest: Manifest | None = None

    @property
    def items_per_s(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        text = f"indexed {self.indexed} products in {self.seconds:.1f} s ({self.items_per_s:.1f}/s)"
        if self.skipped:
            reasons = Counter(_reason_kind(reason) for _, reason in self.skipped)
            text += f", skipped {len(self.skipped)}: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common())
        return text


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


ProgressCallback = Callable[[BuildProgress], None]


def build_index(feed_path: Path, out_dir: Path, engine: Engine, *, index_type: str = "auto",
                cache_dir: Path | None = None, progress: ProgressCallback | None = None,
                fetch_concurrency: int = 8, decode_workers: int | None = None,
                allow_private_hosts: bool = False) -> BuildReport:
    """Index every product of the feed whose image loads; bad rows and images are skipped with reasons.

    The new index is published atomically only after every vector is in; any failure before that
    leaves the index being served as it was. ``decode_workers``: see :func:`engine.prefetch.decode_ahead`.
    ``allow_private_hosts``: let image URLs reach loopback/private addresses (an intranet catalog).
    """
    started = time.perf_counter()
    feed = read_feed(Path(feed_path))
    log.info("feed %s: %s", feed_path, feed.summary())
    skipped = [(f"line {row.line}" + (f" ({row.product_id})" if row.product_id else ""), row.reason)
               for row in feed.skipped]
    total = len(feed.products)
    done = 0
    unfetched: list[ImageResult] = []

    def fetched(results: Iterable[ImageResult]) -> Iterator[ImageResult]:
        for result in results:
            if result.data is None:
                unfetched.append(result)
            else:
                yield result

    with IndexWriter(out_dir, fingerprint=engine.fingerprint, dim=engine.dim, engine=engine.describe(),
                     index_type=index_type) as writer:
        images = fetched(_fetch_in_background(feed.products, cache_dir, fetch_concurrency,
                                              allow_private_hosts=allow_private_hosts))
        for results, batch, errors in decode_ahead(engine, _chunks(images, engine.build_batch_size),
                                                   data=lambda result: result.data, workers=decode_workers):
            skipped += [(result.product.id, f"image: {error}")
                        for result, error in zip(results, errors, strict=True) if error is not None]
            ready = [result.product for result, error in zip(results, errors, strict=True) if error is None]
            if ready:
                writer.add(engine.embed_tensors(batch), ready)
            skipped += [(result.product.id, f"image: {result.error}") for result in unfetched]
            done += len(results) + len(unfetched)
            unfetched.clear()
            if progress:
                progress(BuildProgress(done, total, done / max(time.perf_counter() - started, 1e-9)))
        skipped += [(result.product.id, f"image: {result.error}") for result in unfetched]
        if writer.count == 0:
            raise ValueError(f"none of the {total} products in {feed_path} could be indexed "
                             f"({len(skipped)} skipped); the previous index is unchanged")
        seconds = time.perf_counter() - started
        manifest = writer.commit(source=str(feed_path), source_hash=feed.source_hash, skipped=len(skipped),
                                 build_seconds=seconds)
    for product_ref, reason in skipped:
        log.info("skipped %s: %s", product_ref, reason)
    return BuildReport(indexed=writer.count, skipped=skipped, seconds=seconds, index_dir=writer.directory,
                       manifest=manifest)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_DONE = object()


def _fetch_in_background(products: list[Product], cache_dir: Path | None, concurrency: int,
                         read_ahead: int = 256, *, allow_private_hosts: bool = False) -> Iterator[ImageResult]:
    """Images in completion order, fetched on a thread of their own with a bounded read-ahead."""
    results: queue.Queue = queue.Queue(maxsize=read_ahead)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    async def fetch() -> None:
        async with ImageFetcher(cache_dir, concurrency=concurrency,
                                allow_private_hosts=allow_private_hosts) as fetcher:
            async for result in fetcher.iter_images(products):
                if stop.is_set():
                    return
                await asyncio.to_thread(put, result)

    def run() -> None:
        try:
            asyncio.run(fetch())
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(error)
        put(_DONE)

    thread = threading.Thread(target=run, name="image-fetch", daemon=True)
    thread.start()
    try:
        while (item := results.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
