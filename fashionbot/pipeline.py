"""The index build pipeline: feed → images (read ahead) → decode (a batch ahead) → embed → FAISS, published whole.

On the CPU, images decode with PIL on a thread pool; on CUDA, each batch decodes with nvJPEG on a side stream
while the previous batch runs through the model (engine.decode_path decides).
"""

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

import numpy as np
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
                fetch_concurrency: int = 8, decode_workers: int | None = None) -> BuildReport:
    """Index every product of the feed whose image loads; bad rows and images are skipped with reasons.

    The new index is published atomically only after every vector is in; any failure before that
    leaves the index being served as it was. ``decode_workers`` defaults to the torch thread count on the
    CPU path (decode threads run no torch ops, so they do not oversubscribe the model's OpenMP team).
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
            ThreadPoolExecutor(_decode_workers(engine, decode_workers), thread_name_prefix="decode") as pool:
        images = _fetch_in_background(feed.products, cache_dir, fetch_concurrency)
        for products, batch, reasons in _prepared_batches(images, engine, pool, engine.build_batch_size):
            skipped += [(product.id, reason) for product, reason in zip(products, reasons, strict=True) if reason]
            ready = [product for product, reason in zip(products, reasons, strict=True) if reason is None]
            if ready:
                writer.add(engine.embed_tensors(batch), ready)
            done += len(products)
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


Prepared = tuple[list[Product], torch.Tensor, list[str | None]]  # products, batch of the good ones, reasons


def _decode_workers(engine: Engine, requested: int | None) -> int:
    if requested:
        return requested
    return 1 if engine.decode_path == "tensor" else max(1, torch.get_num_threads())


def _prepare_array(engine: Engine, result: ImageResult) -> np.ndarray | str:
    if result.data is None:
        return f"image: {result.error}"
    try:
        return engine.prepare_array(result.data)
    except ImageDecodeError as error:
        return f"image: {error}"


def _prepare_on_device(engine: Engine, chunk: list[ImageResult],
                       stream: torch.cuda.Stream | None) -> tuple[torch.Tensor, list[str | None]]:
    """One batch through the engine's tensor decoder; on CUDA on its own stream, finished before returning."""
    have = [result for result in chunk if result.data is not None]
    with torch.cuda.stream(stream) if stream is not None else _nullcontext():
        batch, errors = engine.prepare_bytes([result.data for result in have])
        if stream is not None:
            stream.synchronize()
    error_of = {id(result): error for result, error in zip(have, errors, strict=True)}
    reasons = [f"image: {result.error}" if result.data is None
               else (f"image: {error_of[id(result)]}" if error_of[id(result)] else None) for result in chunk]
    return batch, reasons


def _prepared_batches(results: Iterable[ImageResult], engine: Engine, pool: ThreadPoolExecutor,
                      batch_size: int) -> Iterator[Prepared]:
    """Decode one batch ahead on the pool, so decoding overlaps the model's forward pass."""
    stream = torch.cuda.Stream(engine.device) if engine.device.type == "cuda" else None

    def submit(chunk: list[ImageResult]):
        if engine.decode_path == "tensor":
            return chunk, pool.submit(_prepare_on_device, engine, chunk, stream)
        return chunk, [pool.submit(_prepare_array, engine, result) for result in chunk]

    def collect(chunk: list[ImageResult], pending) -> Prepared:
        products = [result.product for result in chunk]
        if engine.decode_path == "tensor":
            batch, reasons = pending.result()
            if stream is not None:  # made on the side stream, used on the main one: keep its memory alive
                batch.record_stream(torch.cuda.current_stream(engine.device))
            return products, batch, reasons
        outcomes = [future.result() for future in pending]
        arrays = [outcome for outcome in outcomes if not isinstance(outcome, str)]
        batch = engine.stack_arrays(arrays) if arrays else torch.zeros(0)
        return products, batch, [outcome if isinstance(outcome, str) else None for outcome in outcomes]

    ahead: deque = deque()
    for chunk in _chunks(results, batch_size):
        ahead.append(submit(chunk))
        if len(ahead) > 1:
            yield collect(*ahead.popleft())
    while ahead:
        yield collect(*ahead.popleft())


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


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
