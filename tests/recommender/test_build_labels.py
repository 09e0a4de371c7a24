"""Labels at build time, on real demo packshots and the shipped head: a shop's own words normalised, an unlabelled
product labelled from its image, a mislabelled one reported; and the demo catalog ranked as before."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from catalog import Product, write_feed_csv
from index import CatalogIndex, Filters
from index.store import PRODUCTS
from recommender.attributes import PRODUCT_LABELS
from recommender.indexing import build_index
from recommender.rerank import RERANK_POOL, RerankPolicy, rerank
from tests.conftest import REPO, diverse

pytestmark = pytest.mark.slow


def image_of(products: list[Product], product_id: str) -> str:
    return next(p.image_link for p in products if p.id == product_id)


@pytest.fixture(scope="module")
def shop_index(tmp_path_factory, demo_products, head_engine) -> tuple[Path, object]:
    """A shop's feed: demo packshots of women's T-shirts, one labelled in Ukrainian and Merchant Center's words,
    one with no labels at all (and two images), one sold as jeans; plus three demo products as the demo has them."""
    def shop(pid: str, image: str, **fields) -> Product:
        return Product(id=pid, title=fields.pop("title", f"Артикул {pid}"), link=f"https://shop.example/{pid}",
                       image_link=image_of(demo_products, image), **fields)

    products = [
        shop("foreign", "31794", title="Футболка жіноча", product_type="Жінкам > Футболки", color="Темно-синій",
             gender="female", google_product_category="212"),
        replace(shop("unlabelled", "5154"), additional_image_links=(image_of(demo_products, "2554"),)),
        shop("mislabelled", "5811", title="Slim jeans", product_type="Jeans", gender="female"),
        *[p for p in demo_products if p.id in ("1546", "1548", "1578")],
    ]
    root = tmp_path_factory.mktemp("shop") / "idx"
    write_feed_csv(products, root.parent / "feed.csv")
    report = build_index(root.parent / "feed.csv", root, head_engine)
    return root, report


def opened(root: Path) -> CatalogIndex:
    return CatalogIndex.open(root)


def product(index: CatalogIndex, product_id: str) -> Product:
    hits = index.search(index.vector(product_id), k=len(index))[0]
    return next(hit.product for hit in hits if hit.product.id == product_id)


def test_a_shops_own_words_become_the_heads_labels(shop_index) -> None:
    index = opened(shop_index[0])
    foreign = product(index, "foreign")
    assert {name: foreign.label(name) for name in ("category", "sub_category", "colour", "gender")} == {
        "category": "Tshirts", "sub_category": "Topwear", "colour": "Navy Blue", "gender": "Women"}
    assert foreign.labels["colour"]["source"] == "feed"
    assert foreign.color == "Темно-синій" and foreign.product_type == "Жінкам > Футболки"  # shown as the shop says
    assert PRODUCT_LABELS["category"](foreign) == "Tshirts"


def test_filters_find_the_foreign_labelled_product(shop_index) -> None:
    index = opened(shop_index[0])
    def found(filters: Filters) -> set[str]:
        return {hit.product.id for hit in index.search(index.vector("foreign"), k=len(index), filters=filters)[0]}

    assert "foreign" in found(Filters(color="navy blue"))
    assert {"foreign", "unlabelled"} <= found(Filters(gender="women"))
    assert "foreign" in found(Filters(product_type="tshirts", gender="women"))
    assert "topwear > tshirts" in index.labels().product_type and "navy blue" in index.labels().color


def test_an_unlabelled_product_gets_its_images_labels(shop_index) -> None:
    index = opened(shop_index[0])
    unlabelled = product(index, "unlabelled")
    assert unlabelled.label("category") == "Tshirts" and unlabelled.labels["category"]["source"] == "image"
    assert unlabelled.label("sub_category") == "Topwear" and unlabelled.label("gender") == "Women"
    # Both of its images' rows carry the same labels, from both images' probabilities.
    with sqlite3.connect(shop_index[0] / "current" / PRODUCTS) as connection:
        records = [json.loads(record) for (record,) in connection.execute(
            "SELECT record FROM products WHERE product_id = 'unlabelled' ORDER BY view")]
    assert len(records) == 2 and records[0]["labels"] == records[1]["labels"]


def test_a_mislabelled_product_is_reported(shop_index) -> None:
    root, report = shop_index
    index = opened(root)
    contradicted = [row for row in index.label_report().contradicted if row["id"] == "mislabelled"]
    assert [(row["attribute"], row["feed"], row["image"]) for row in contradicted][:1] == [
        ("category", "Jeans", "Tshirts")]
    assert contradicted[0]["image_confidence"] >= 0.6
    assert report.labels["contradicted"] >= 1 and "contradicted" in report.summary()
    coverage = index.manifest.labels["coverage"]
    assert coverage["category"]["image"] >= 1 and coverage["colour"]["feed"] >= 4
    assert sum(coverage["gender"].values()) == len(index) == 6


def test_index_info_reports_coverage_and_contradictions(shop_index, capsys) -> None:
    from fashionbot.catalog_commands import info

    assert info(shop_index[0], as_json=True) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["labels"]["coverage"] == opened(shop_index[0]).label_report().coverage
    assert any(row["id"] == "mislabelled" for row in reported["labels"]["contradicted"])
    assert info(shop_index[0]) == 0
    text = capsys.readouterr().out
    assert "category" in text and "mislabelled  category: feed 'Jeans', image 'Tshirts'" in text


def test_the_demo_catalog_ranks_as_before(tmp_path, demo_products, head_engine) -> None:
    """The demo's labels are the heads' words: normalised, they are its text, and re-rank orders alike."""
    vocabularies = head_engine.head.head.spec.vocabularies
    known = [p for p in demo_products
             if all(PRODUCT_LABELS[name](p) in vocabularies[name] for name in ("category", "colour", "gender"))]
    feed = tmp_path / "feed.csv"
    write_feed_csv(diverse(known, 40), feed)
    build_index(feed, tmp_path / "idx", head_engine)
    index = CatalogIndex.open(tmp_path / "idx")
    policy = RerankPolicy.of(head_engine.head)
    assert policy is not None
    photos = sorted((REPO / "demo" / "photos").glob("*.jpg"))
    vectors, attributes = head_engine.embed_photos([head_engine.decode(path.read_bytes()) for path in photos])
    assert attributes is not None
    for vector, seen in zip(vectors, attributes, strict=True):
        hits = index.search(vector[None, :], RERANK_POOL)[0]
        for hit in hits:
            for name in ("category", "colour", "gender"):
                assert hit.product.label(name) in (None, PRODUCT_LABELS[name](replace(hit.product, labels={})))
        as_before = [replace(hit, product=replace(hit.product, labels={})) for hit in hits]
        assert ([hit.product.id for hit in rerank(hits, seen, policy.weights, policy.keep_top)]
                == [hit.product.id for hit in rerank(as_before, seen, policy.weights, policy.keep_top)])
