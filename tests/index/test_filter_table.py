"""One table of filter cases, run against the real index and against the tests' FakeRecommender: the fake's
filter semantics are what every chat and bot test relies on, so they must be the index's, case for case."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from catalog.product import Product
from index import CatalogIndex, Filters, IndexWriter
from recommender.protocol import Query
from tests.auxil.fakes import FakeRecommender

DIM = 8


def product(pid: str, *, gender: str = "Men", color: str = "Red", product_type: str = "Apparel > Topwear > Tshirts",
            usage: str = "Casual", brand: str = "Acme", price: float | None = 20.0, currency: str | None = "EUR",
            label: str | None = None, labels: dict[str, str] | None = None) -> Product:
    extra = {"usage": usage, **({"custom_label_0": label} if label else {})}
    return Product(id=pid, title=f"item {pid}", link=f"https://shop.example/{pid}",
                   image_link=f"https://shop.example/{pid}.jpg", gender=gender, color=color,
                   product_type=product_type, brand=brand, price=None if price is None else f"{price} {currency}",
                   price_amount=price, price_currency=None if price is None else currency, extra=extra,
                   labels={name: {"value": value, "source": "feed", "confidence": 1.0, "evidence": "test"}
                           for name, value in (labels or {}).items()})


PRODUCTS = [
    product("men-red-tee"),
    product("women-navy-dress", gender="Women", color="Navy Blue", product_type="Apparel > Dress > Dresses",
            usage="Party", price=80.0, label="Summer Sale"),
    product("unisex-blue-sneaker", gender="Unisex", color="Blue", product_type="Footwear > Shoes > Sports Shoes",
            usage="Sports", brand="Stride", price=55.0, label="Summer Sale"),
    product("girls-white-heels", gender="Girls", color="White", product_type="Footwear > Shoes > Heels",
            usage="Formal", price=35.0),
    product("women-black-heels-usd", gender="Women", color="Black", product_type="Footwear > Shoes > Heels",
            usage="Formal", brand="Stride", price=35.0, currency="USD"),
    product("men-unpriced-shirt", color="White", product_type="Apparel > Topwear > Shirts", usage="Formal",
            price=None),
    product("women-red-top", gender="Women", product_type="Apparel > Topwear > Tops", price=20.0),
    # A shop's own words; filters read its normalised labels (the heads' vocabulary) instead.
    product("foreign-navy-tee", gender="female", color="Темно-синій", product_type="Одяг > Футболки", usage="",
            price=20.0, labels={"category": "Tshirts", "sub_category": "Topwear", "colour": "Navy Blue",
                                "gender": "Women"}),
]
FOREIGN = "foreign-navy-tee"

# (filters, the ids that pass); read each row as the rule it pins down.
CASES = [
    (Filters(), [p.id for p in PRODUCTS]),
    (Filters(gender="women"), ["women-navy-dress", "unisex-blue-sneaker", "women-black-heels-usd", "women-red-top",
                               FOREIGN]),
    (Filters(gender="MEN"), ["men-red-tee", "unisex-blue-sneaker", "men-unpriced-shirt"]),
    (Filters(gender="girls"), ["girls-white-heels"]),  # unisex fits men and women, not girls
    (Filters(color="blue"), ["women-navy-dress", "unisex-blue-sneaker", FOREIGN]),  # colour contains the word
    (Filters(color="navy blue", gender="women"), ["women-navy-dress", FOREIGN]),
    (Filters(color="темно"), []),  # a labelled product is filtered by its label, not the shop's word
    (Filters(product_type="tshirts"), ["men-red-tee", FOREIGN]),
    (Filters(usage="casual"), ["men-red-tee", "women-red-top"]),  # unlabelled usage: the shop's (none here)
    (Filters(color="red|white"), ["men-red-tee", "girls-white-heels", "men-unpriced-shirt", "women-red-top"]),
    (Filters(product_type="heels"), ["girls-white-heels", "women-black-heels-usd"]),
    (Filters(product_type="topwear", gender="women"), ["women-red-top", FOREIGN]),
    (Filters(usage="formal"), ["girls-white-heels", "women-black-heels-usd", "men-unpriced-shirt"]),
    (Filters(usage="form"), []),  # usage is exact, not contains
    (Filters(brand="stride"), ["unisex-blue-sneaker", "women-black-heels-usd"]),
    (Filters(max_price=35.0, currency="EUR"), ["men-red-tee", "girls-white-heels", "women-red-top", FOREIGN]),
    (Filters(min_price=35.0), ["women-navy-dress", "unisex-blue-sneaker", "girls-white-heels",
                               "women-black-heels-usd"]),  # any currency; unpriced never passes
    (Filters(min_price=30.0, max_price=60.0, currency="USD"), ["women-black-heels-usd"]),
    (Filters(excluded=(("product_type", "heels"),), gender="women"),
     ["women-navy-dress", "unisex-blue-sneaker", "women-red-top", FOREIGN]),
    (Filters(excluded=(("color", "red"), ("color", "white"))),
     ["women-navy-dress", "unisex-blue-sneaker", "women-black-heels-usd", FOREIGN]),
    (Filters(collection="summer-sale"), ["women-navy-dress", "unisex-blue-sneaker"]),
    (Filters(collection="Summer Sale", gender="men"), ["unisex-blue-sneaker"]),
    (Filters(color="purple"), []),
    (Filters(product_type="100%_"), []),  # SQL wildcards are literal
]


def vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    found = rng.normal(size=(len(PRODUCTS), DIM)).astype(np.float32)
    return found / np.linalg.norm(found, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> CatalogIndex:
    root = tmp_path_factory.mktemp("filter-table") / "idx"
    with IndexWriter(root, fingerprint="fp", dim=DIM, engine={"backbone": "test"}, index_type="flat") as writer:
        writer.add(vectors(), PRODUCTS)
        writer.commit(source="feed.csv", source_hash="abc", skipped=0)
    opened = CatalogIndex.open(root)
    yield opened
    opened.close()


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[repr(filters) for filters, _ in CASES])
def test_the_index_and_the_fake_pass_the_same_products(index: CatalogIndex, filters: Filters,
                                                       expected: list[str]) -> None:
    every = len(PRODUCTS)
    from_index = {hit.product.id for hit in index.search(vectors()[0], k=every, filters=filters)[0]}
    fake = FakeRecommender(PRODUCTS)
    from_fake = {hit.product.id for hit in asyncio.run(fake.search(Query(np.ones(3, np.float32)), every,
                                                                   filters=filters))}
    assert from_index == set(expected)
    assert from_fake == set(expected)


def test_a_collection_looks_like_the_mean_of_its_products(index: CatalogIndex) -> None:
    members = [i for i, p in enumerate(PRODUCTS) if p.extra.get("custom_label_0") == "Summer Sale"]
    mean = vectors()[members].mean(axis=0)
    np.testing.assert_allclose(index.centroid(Filters(collection="summer-sale")), mean / np.linalg.norm(mean),
                               atol=1e-6)
    assert index.centroid(Filters(collection="winter")) is None


def test_catalog_labels_speak_the_normalised_vocabulary_in_the_index_and_the_fake(index: CatalogIndex) -> None:
    labels = index.labels()
    assert "navy blue" in labels.color and "темно-синій" not in labels.color
    assert "topwear > tshirts" in labels.product_type and "одяг > футболки" not in labels.product_type
    assert "female" not in labels.gender
    assert asyncio.run(FakeRecommender(PRODUCTS).labels()) == labels


def test_the_label_report_counts_where_labels_came_from(index: CatalogIndex) -> None:
    report = index.label_report()
    assert report.coverage["colour"] == {"feed": 1, "image": 0, "none": len(PRODUCTS) - 1}
    assert report.contradicted == []
    assert index.manifest.labels["coverage"] == report.coverage and index.manifest.labels["contradicted"] == 0
