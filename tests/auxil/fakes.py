"""Fakes with the real interfaces: a Recommender without a model, and a small catalog of coloured items."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from catalog import Product, read_feed, write_feed_csv
from engine import decode_image
from index import CatalogLabels, Filters, SearchHit, collection_slug
from index.records import filter_values
from recommender import BuildProgress, BuildReport, Query, ReindexInProgressError, Style
from recommender.protocol import Region
from recommender.style import vote_style

COLOURS = {"red": (210, 40, 40), "blue": (40, 70, 200), "green": (40, 160, 70),
           "white": (240, 240, 240), "black": (25, 25, 25), "yellow": (230, 210, 50)}
KINDS = (("Tshirts", "Apparel > Topwear > Tshirts", "Casual"),
         ("Casual Shoes", "Footwear > Shoes > Casual Shoes", "Casual"),
         ("Formal Shoes", "Footwear > Shoes > Formal Shoes", "Formal"),
         ("Dresses", "Apparel > Dress > Dresses", "Party"))
GENDERS = ("Men", "Women")


def jpeg(colour: tuple[int, int, int] | str, size: tuple[int, int] = (60, 80)) -> bytes:
    rgb = COLOURS[colour] if isinstance(colour, str) else colour
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_catalog(directory: Path, count: int = 30, remote_every: int = 4) -> list[Product]:
    """``count`` products of varied colour, kind and gender; every ``remote_every``-th image is a URL,
    the others are JPEG files under ``directory``; also written there as ``catalog.csv``."""
    directory.mkdir(parents=True, exist_ok=True)
    products = []
    for i in range(count):
        colour = list(COLOURS)[i % len(COLOURS)]
        article, product_type, usage = KINDS[i % len(KINDS)]
        gender = GENDERS[(i // 3) % 2]
        if remote_every and i % remote_every == remote_every - 1:
            image_link = f"https://cdn.example.com/img/P{i:03d}.jpg"
        else:
            image_path = directory / f"P{i:03d}.jpg"
            image_path.write_bytes(jpeg(colour))
            image_link = str(image_path)
        products.append(Product(
            id=f"P{i:03d}", title=f"{gender}'s {colour} {article.lower()} no. {i}",
            link=f"https://shop.example.com/p/{i}", image_link=image_link, price=f"{19 + i}.99 EUR",
            brand="Acme", color=colour.title(), gender=gender, product_type=product_type,
            extra={"usage": usage, "article_type": article},
        ))
    write_feed_csv(products, directory / "catalog.csv")
    return products


def matches(product: Product, filters: Filters | None) -> bool:
    """The index's filter semantics: gender exact (unisex fits both), colour and type contain, usage and brand
    exact, '|' between alternatives; price bounds on the parsed amount in the filter's currency."""
    if not filters:
        return True
    labels = all(_has(product, name, value) for name, value in filters.labels())
    excluded = any(_has(product, name, value) for name, value in filters.excluded)
    return labels and not excluded and _priced_within(product, filters)


def _has(product: Product, name: str, value: str) -> bool:
    """Whether the product's filterable value (its normalised label, else its own text, as the index stores it)
    matches."""
    options = [option.lower() for option in value.split("|")]
    stored = filter_values(product)
    if name == "gender":
        gender = stored["gender"] or ""
        return gender in options or (gender == "unisex" and bool({"men", "women"} & set(options)))
    if name in ("color", "product_type"):
        return any(option in (stored[name] or "") for option in options)
    if name == "usage":
        return (stored["usage"] or "") in options
    if name == "brand":
        return (product.brand or "").lower() in options
    labels = [collection_slug(product.extra.get(f"custom_label_{n}", "")) for n in range(5)]
    return collection_slug(value) in labels


def _priced_within(product: Product, filters: Filters) -> bool:
    if filters.min_price is None and filters.max_price is None:
        return True
    if product.price_amount is None or (filters.currency and product.price_currency != filters.currency):
        return False
    return ((filters.min_price is None or product.price_amount >= filters.min_price)
            and (filters.max_price is None or product.price_amount <= filters.max_price))


class FakeRecommender:
    """Ranks products by how close their colour is to the photo's mean colour.

    Photos are decoded with the engine's real safe decoder (so bad images fail as they would), off the
    loop. Knobs for tests: ``photo_delay_s``; ``reindex_gate`` (an Event the rebuild waits on) and
    ``reindex_error``; ``fail_search``; ``fingerprint`` (another one: another model). It counts what it was asked,
    and refuses, as the real one does, to search with another model's query.
    """

    def __init__(self, products: list[Product], *, photo_delay_s: float = 0.0, reindex_steps: int = 5,
                 reindex_step_s: float = 0.05, fingerprint: str = "fake-colours-1") -> None:
        self.products = products
        self.engine_fingerprint = fingerprint
        self.photo_delay_s = photo_delay_s
        self.reindex_steps, self.reindex_step_s = reindex_steps, reindex_step_s
        self.reindex_gate: asyncio.Event | None = None
        self.reindex_error: Exception | None = None
        self.fail_search: Exception | None = None
        self.photos = self.active = self.max_active = 0
        self.closed = False
        self._reindexing = False
        self.builds = 1
        self.similarity_floor: float | None = None  # set it to make photos find "nothing close"
        # Set it to make every photo a person's: these garments (name, box), most prominent first.
        self.regions: list[tuple[str, tuple[int, int, int, int]]] | None = None

    async def photo(self, image_bytes: bytes) -> Query:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            image = await asyncio.to_thread(decode_image, image_bytes)
            await asyncio.sleep(self.photo_delay_s)
            self.photos += 1
            mean = np.asarray(image, dtype=np.float32).reshape(-1, 3).mean(axis=0) / 255
            return Query(mean.astype(np.float32), fingerprint=self.fingerprint)
        finally:
            self.active -= 1

    async def photo_regions(self, image_bytes: bytes) -> list[Region]:
        """The photo ``whole``; with ``regions`` set, those garments, each searched with its box's mean colour."""
        query = await self.photo(image_bytes)
        image = await asyncio.to_thread(decode_image, image_bytes)
        if self.regions is None:
            return [Region("whole", (0, 0, image.width, image.height), query)]
        pixels = np.asarray(image, dtype=np.float32)
        return [Region(name, box, Query((pixels[box[1]:box[3], box[0]:box[2]].reshape(-1, 3).mean(axis=0) / 255)
                                        .astype(np.float32), fingerprint=self.fingerprint),
                       prominence=1.0 - number / len(self.regions))
                for number, (name, box) in enumerate(self.regions)]

    async def search(self, query: Query, k: int, offset: int = 0,
                     filters: Filters | None = None) -> list[SearchHit]:
        if self.fail_search is not None:
            raise self.fail_search
        if query.fingerprint not in (None, self.fingerprint):
            raise ValueError(f"a query of engine {query.fingerprint} cannot search engine {self.fingerprint}'s index")
        ranked = sorted((p for p in self.products if matches(p, filters)),
                        key=lambda p: (self._distance(query, p), p.id))
        return [SearchHit(p, 1.0 - self._distance(query, p), rank)
                for rank, p in enumerate(ranked[offset:offset + k], offset)]

    async def style(self, query: Query) -> Style:
        return vote_style(await self.search(query, 10))

    async def labels(self) -> CatalogLabels:
        def distinct(values) -> tuple[str, ...]:
            return tuple(sorted({value.lower() for value in values if value}))

        currencies = [p.price_currency for p in self.products if p.price_currency]
        stored = [filter_values(p) for p in self.products]
        return CatalogLabels(gender=distinct(values["gender"] for values in stored),
                             color=distinct(values["color"] for values in stored),
                             product_type=distinct(values["product_type"] for values in stored),
                             usage=distinct(values["usage"] for values in stored),
                             brand=distinct(p.brand for p in self.products),
                             currencies=tuple(sorted(set(currencies), key=currencies.count, reverse=True)))

    async def product_query(self, product_id: str) -> Query | None:
        product = next((p for p in self.products if p.id == product_id), None)
        return None if product is None else Query(self._colour(product), fingerprint=self.fingerprint)

    async def collection_query(self, name: str) -> Query | None:
        members = [p for p in self.products if matches(p, Filters(collection=name))]
        if not members:
            return None
        return Query(np.mean([self._colour(p) for p in members], axis=0).astype(np.float32),
                     fingerprint=self.fingerprint)

    async def reindex(self, feed_path: Path,
                      progress: Callable[[BuildProgress], None] | None = None) -> BuildReport:
        if self._reindexing:
            raise ReindexInProgressError("a reindex is already running")
        self._reindexing, started = True, time.monotonic()
        try:
            for done in range(1, self.reindex_steps + 1):
                await asyncio.sleep(self.reindex_step_s)
                if progress:
                    progress(BuildProgress(done, self.reindex_steps, done / (time.monotonic() - started)))
            if self.reindex_gate is not None:
                await self.reindex_gate.wait()
            if self.reindex_error is not None:
                raise self.reindex_error
            report = await asyncio.to_thread(read_feed, feed_path)
            self.products = report.products  # the swap: all at once, at the end
            self.builds += 1
            return BuildReport(len(report.products), [(str(s.line), s.reason) for s in report.skipped],
                               time.monotonic() - started)
        finally:
            self._reindexing = False

    @property
    def min_similarity(self) -> float | None:
        return self.similarity_floor

    @property
    def reindexing(self) -> bool:
        return self._reindexing

    @property
    def fingerprint(self) -> str:
        return self.engine_fingerprint

    @property
    def build_id(self) -> str:
        return f"fake-build-{self.builds}"

    @property
    def products_served(self) -> int:
        return len(self.products)

    async def aclose(self) -> None:
        self.closed = True

    @staticmethod
    def _colour(product: Product) -> np.ndarray:
        return np.asarray(COLOURS.get((product.color or "").lower(), (128, 128, 128)), dtype=np.float32) / 255

    @classmethod
    def _distance(cls, query: Query, product: Product) -> float:
        return float(np.linalg.norm(query.vector - cls._colour(product)))


def labelled(pid: str, article_type: str, colour: str = "Red", gender: str = "Men") -> Product:
    """A product labelled as the sample's are (its article type in ``extra``), with a made-up link."""
    return Product(id=pid, title=f"item {pid}", link=f"https://shop.example/{pid}", image_link=f"/x/{pid}.jpg",
                   color=colour, gender=gender, product_type=f"Apparel > Topwear > {article_type}",
                   extra={"article_type": article_type})


class ManualClock:
    """A clock that moves only when a test moves it: ``clock.now += 30``."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
