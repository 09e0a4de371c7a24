"""The index build pipeline: feed → images (read ahead) → decode (threads) → embed → FAISS, published whole."""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch

from catalog import ImageFetcher, ImageResult, Product, read_feed
from engine import Engine, ImageDecodeError
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
                fetch_concurrency: int = 8) -> BuildReport:
    """Index every product of the feed whose image loads; bad rows and images are skipped with reasons.

    The new index is published atomically only after every vector is in; any failure before that
    leaves the index being served as it was.
    """
    started = time.perf_counter()
    feed = read_feed(Path(feed_path))
    log.info("feed %s: %s", feed_path, feed.summary())
    skipped = [(f"line {row.line}" + (f" ({row.product_id})" if row.product_id else ""), row.reason)
               for row in feed.skipped]
    total = len(feed.products)
    done = 0
    with IndexWriter(out_dir, fingerprint=engine.fingerprint, dim=engine.dim, engine=engine.describe(),
                     index_type=index_type) as writer, \
            ThreadPoolExecutor(max(1, torch.get_num_threads()), thread_name_prefix="decode") as pool:
        images = _fetch_in_background(feed.products, cache_dir, fetch_concurrency)
        for batch in _prepared_batches(images, engine, pool, engine.config.batch_size):
            ready = [(product, tensor) for product, tensor, _ in batch if tensor is not None]
            skipped += [(product.id, reason) for product, tensor, reason in batch if tensor is None]
            if ready:
                vectors = engine.embed_tensors(torch.stack([tensor for _, tensor in ready]))
                writer.add(vectors, [product for product, _ in ready])
            done += len(batch)
            if progress:
                progress(BuildProgress(done, total, done / max(time.perf_counter() - started, 1e-9)))
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


def _prepare(engine: Engine, result: ImageResult) -> tuple[Product, torch.Tensor | None, str | None]:
    if result.data is None:
        return result.product, None, f"image: {result.error}"
    try:
        return result.product, engine.preprocess([engine.decode(result.data)])[0], None
    except ImageDecodeError as error:
        return result.product, None, f"image: {error}"


def _prepared_batches(results: Iterable[ImageResult], engine: Engine, pool: ThreadPoolExecutor,
                      batch_size: int) -> Iterator[list[tuple[Product, torch.Tensor | None, str | None]]]:
    """Decode one batch ahead on the pool, so decoding overlaps the model's forward pass."""
    ahead: deque[list] = deque()
    for chunk in _chunks(results, batch_size):
        ahead.append([pool.submit(_prepare, engine, result) for result in chunk])
        if len(ahead) > 1:
            yield [future.result() for future in ahead.popleft()]
    while ahead:
        yield [future.result() for future in ahead.popleft()]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_DONE = object()


def _fetch_in_background(products: list[Product], cache_dir: Path | None, concurrency: int,
                         read_ahead: int = 256) -> Iterator[ImageResult]:
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
        async with ImageFetcher(cache_dir, concurrency=concurrency) as fetcher:
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
