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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from catalog import FeedReport, ImageFetcher, ImageResult, Product, read_feed
from engine.attributes import Attributes
from engine.prefetch import decode_ahead
from engine.runtime import EmbeddingEngine
from index import IndexWriter, Manifest

from .labelling import ViewVotes, label_product

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildProgress:
    done: int  # images (a product has one or more)
    total: int
    items_per_s: float

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


@dataclass
class BuildReport:
    indexed: int  # products
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (product id or "line N", reason)
    seconds: float = 0.0
    index_dir: Path | None = None
    manifest: Manifest | None = None
    vectors: int = 0  # one per embedded image
    # {"coverage": attribute → {"feed", "image", "none"}, "contradicted": how many products} (the manifest's)
    labels: dict = field(default_factory=dict)

    @property
    def items_per_s(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        text = f"indexed {self.indexed} products in {self.seconds:.1f} s ({self.items_per_s:.1f}/s)"
        if self.vectors > self.indexed:
            text += f" by {self.vectors} images"
        if self.skipped:
            reasons = Counter(_reason_kind(reason) for _, reason in self.skipped)
            text += f", skipped {len(self.skipped)}: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common())
        if self.labels.get("coverage"):
            text += "; labels " + label_coverage_text(self.labels["coverage"])
            if self.labels.get("contradicted"):
                text += f", {self.labels['contradicted']} contradicted by their images (fashionbot index info)"
        return text


def label_coverage_text(coverage: dict[str, dict[str, int]]) -> str:
    """'category 30 feed + 8 image, 2 none; colour …': where each attribute's labels came from."""
    return "; ".join(f"{attribute} {counts.get('feed', 0)} feed + {counts.get('image', 0)} image, "
                     f"{counts.get('none', 0)} none" for attribute, counts in coverage.items())


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


ProgressCallback = Callable[[BuildProgress], None]


MAX_VIEWS = 5  # images embedded per product: image_link and up to four additional_image_links


@dataclass(frozen=True)
class ProductView:
    """One image of a product to embed: ``number`` 0 is its image_link, 1… its additional images."""

    product: Product
    number: int
    image: Product  # what the fetcher fetches: the product with this view's link as its image_link


def product_views(product: Product, max_views: int = MAX_VIEWS) -> list[ProductView]:
    """The images a product is found by: its main image first, then additional ones, each link once."""
    links = list(dict.fromkeys([product.image_link, *product.additional_image_links]))[:max(1, max_views)]
    return [ProductView(product, number, product if number == 0 else replace(product, image_link=link))
            for number, link in enumerate(links)]


def read_views(feed_path: Path, max_views: int = MAX_VIEWS) -> tuple[FeedReport, list[tuple[str, str]],
                                                                      list[ProductView]]:
    """A build's input: the feed, its skipped rows as (reference, reason), and every product's views."""
    feed = read_feed(Path(feed_path))
    log.info("feed %s: %s", feed_path, feed.summary())
    skipped = [(f"line {row.line}" + (f" ({row.product_id})" if row.product_id else ""), row.reason)
               for row in feed.skipped]
    return feed, skipped, [view for product in feed.products for view in product_views(product, max_views)]


def build_index(feed_path: Path, out_dir: Path, engine: EmbeddingEngine, *, index_type: str = "auto",
                cache_dir: Path | None = None, progress: ProgressCallback | None = None,
                fetch_concurrency: int = 8, decode_workers: int | None = None,
                allow_private_hosts: bool = False, max_views: int = MAX_VIEWS) -> BuildReport:
    """Index every product of the feed with at least one image that loads (up to ``max_views`` of its images,
    each its own vector: a product is found by any of them); bad rows and images are skipped with reasons.

    The new index is published atomically only after every vector is in; any failure before that
    leaves the index being served as it was. ``decode_workers``: see :func:`engine.prefetch.decode_ahead`.
    ``allow_private_hosts``: let image URLs reach loopback/private addresses (an intranet catalog).
    """
    started = time.perf_counter()
    feed, skipped, views = read_views(feed_path, max_views)
    view_of = {id(view.image): view for view in views}

    with IndexWriter(out_dir, fingerprint=engine.fingerprint, dim=engine.dim, engine=engine.describe(),
                     index_type=index_type) as writer:
        tally = BuildTally(writer, len(views), started, progress, head_vocabularies(engine))

        def fetched(results: Iterable[ImageResult]) -> Iterator[tuple[ProductView, bytes]]:
            for result in results:
                if result.data is None:
                    tally.failed(result.product.id, f"image: {result.error}")
                    tally.done += 1  # counted now, reported with the next batch
                else:
                    yield view_of[id(result.product)], result.data

        images = fetched(_fetch_in_background([view.image for view in views], cache_dir, fetch_concurrency,
                                              allow_private_hosts=allow_private_hosts))
        for chunk, batch, errors in decode_ahead(engine, _chunks(images, engine.build_batch_size),
                                                 data=lambda item: item[1], workers=decode_workers):
            ready = []
            for (view, _), error in zip(chunk, errors, strict=True):
                if error is None:
                    ready.append(view)
                else:
                    tally.failed(view.product.id, f"image: {error}")
            if ready:
                tally.add(*engine.embed_with_attributes(batch), ready)
            tally.advanced(len(chunk))
        return tally.finish(feed, feed_path, skipped)


def head_vocabularies(engine: EmbeddingEngine) -> dict[str, list[str]] | None:
    """The labels each of the engine's attribute heads predicts; None without a head."""
    return engine.head.vocabularies if engine.head is not None else None


class BuildTally:
    """The part both build paths share (here and on Ray): embedded views go into the writer labelled, failed
    images are remembered per product, progress is reported, and the end publishes the build and says what was
    skipped and where the labels came from.

    Labels: each product's feed labels reconciled with the mean of its images' attribute probabilities (with a
    head, ``vocabularies``). A product's images may come in different batches, so each row is written with the
    labels of the images seen so far, and the products with more than one image are relabelled once all are in:
    one UPDATE per such product at the end, none for the usual single image, and the result does not depend on
    the order images arrive in."""

    def __init__(self, writer: IndexWriter, total: int, started: float, progress: ProgressCallback | None,
                 vocabularies: Mapping[str, Sequence[str]] | None = None) -> None:
        self.writer, self.total, self.started, self.progress = writer, total, started, progress
        self.failures: dict[str, str] = {}  # product id → why its first failed image failed
        self.indexed: set[str] = set()
        self.done = 0  # views embedded or given up on
        self.votes = ViewVotes(vocabularies) if vocabularies else None

    def failed(self, product_id: str, reason: str) -> None:
        self.failures.setdefault(product_id, reason)

    def add(self, vectors: np.ndarray, attributes: Sequence[Attributes | np.ndarray] | None,
            views: list[ProductView]) -> None:
        """Embedded views, with each one's attributes (or their :meth:`ViewVotes.row`) when there is a head."""
        if self.votes is not None and attributes is not None:
            for view, seen in zip(views, attributes, strict=True):
                self.votes.add(view.product.id, seen)
        self.writer.add(vectors, [self.labelled(view.product) for view in views],
                        views=[view.number for view in views])
        self.indexed.update(view.product.id for view in views)

    def labelled(self, product: Product) -> Product:
        """The product with its labels: its feed's, reconciled with what its images seen so far show."""
        return label_product(product, self.votes.mean(product.id) if self.votes is not None else None)

    def advanced(self, count: int) -> None:
        self.done += count
        if self.progress:
            elapsed = max(time.perf_counter() - self.started, 1e-9)
            self.progress(BuildProgress(self.done, self.total, self.done / elapsed))

    def finish(self, feed: FeedReport, feed_path: Path, skipped: list[tuple[str, str]]) -> BuildReport:
        """Publish the build (refusing an empty one: the served index stays) and report it."""
        skipped = skipped + [(product.id, self.failures[product.id]) for product in feed.products
                             if product.id not in self.indexed]
        if self.writer.count == 0:
            raise ValueError(f"none of the {len(feed.products)} products in {feed_path} could be indexed "
                             f"({len(skipped)} skipped); the previous index is unchanged")
        if self.votes is not None:
            votes = self.votes
            self.writer.relabel(self.labelled(product) for product in feed.products if votes.views(product.id) > 1)
        seconds = time.perf_counter() - self.started
        manifest = self.writer.commit(source=str(feed_path), source_hash=feed.source_hash, skipped=len(skipped),
                                      build_seconds=seconds)
        for product_ref, reason in skipped:
            log.info("skipped %s: %s", product_ref, reason)
        partly = len([pid for pid in self.failures if pid in self.indexed])
        if partly:
            log.info("%d indexed products had an image that did not load; they are found by their others", partly)
        log.info("labels: %s; %d products contradicted by their images", label_coverage_text(
            manifest.labels.get("coverage", {})), manifest.labels.get("contradicted", 0))
        return BuildReport(indexed=len(self.indexed), skipped=skipped, seconds=seconds,
                           index_dir=self.writer.directory, manifest=manifest, vectors=self.writer.count,
                           labels=manifest.labels)


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
