"""`catalog check` reports how many products the feed alone labels, per attribute and per field; on the real
feeds shops committed (shared/real-feeds) the apparel among them get a kind from the feed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import Product, diagnose, read_feed
from catalog.feed import FeedReport
from catalog.label_coverage import label_coverage

FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "real-feeds"

# feed → (products, apparel among them, at least this many apparel products with a category or sub_category,
#         at least this many with a colour). Measured 2026-12 (docs/FEEDS.md); a floor, so better words pass.
REAL = {
    "rss-rybka-apparel-uk-ru.xml": (32, 32, 32, 32),  # tracksuits: sub_category Apparel Set, no category
    "rss-opispot-tshirts-cdata-bom.xml": (486, 474, 474, 474),  # the mugs, stickers and a sleeve are not
    "tsv-luxemia-apparel.tsv": (72, 72, 72, 72),
    "csv-furugi-vintage-bom-multiline.csv": (505, 501, 501, 410),  # its colour is only in the titles
    "csv-kupilica-household-bom-allquoted.csv": (417, 0, 0, 0),  # household goods (one bag filed as clothing)
}


def item(n: int, **fields: str) -> Product:
    return Product(id=str(n), title=fields.pop("title", f"item {n}"), link=f"https://shop.example/{n}",
                   image_link=f"https://shop.example/{n}.jpg", **fields)


def test_coverage_counts_apparel_only_and_names_the_fields() -> None:
    products = [
        item(1, google_product_category="2271", color="Dark Blue", gender="female"),
        item(2, product_type="Men > T-Shirts", title="Cotton tee"),
        item(3, title="Black leather jacket"),
        item(4, google_product_category="1604"),  # clothing, but nothing says which kind
        item(5, google_product_category="2616", title="Black T-shirt shaped lamp"),  # not apparel
    ]
    coverage = label_coverage(products)
    assert (coverage.products, coverage.apparel, coverage.kind) == (5, 4, 3)
    assert coverage.labelled["category"] == 3 and coverage.labelled["colour"] == 2
    assert coverage.sources["category"] == {"google_product_category": 1, "product_type": 1, "title": 1}
    assert coverage.sources["colour"] == {"color": 1, "title": 1}
    assert coverage.sources["gender"] == {"gender": 1, "product_type": 1}
    as_dict = coverage.to_dict()
    assert as_dict["attributes"]["category"] == {"labelled": 3, "coverage": 0.75, "none": 1,
                                                 "from": coverage.sources["category"]}
    assert as_dict["kind"] == {"labelled": 3, "coverage": 0.75}


def test_the_report_shows_label_coverage_in_text_and_json() -> None:
    report = FeedReport(products=[item(1, product_type="Ropa > Camisetas", color="Negro", gender="unisex"),
                                  item(2, product_type="Ropa > Vestidos")], skipped=[], source_hash="0")
    diagnosis = diagnose(report)
    text = diagnosis.text()
    assert "labels from the feed, over the 2 products that are clothing or shoes (of 2):" in text
    assert "category             2    100.0%  product_type 2" in text
    assert "colour               1     50.0%  color 1" in text
    labels = json.loads(diagnosis.to_json())["labels"]
    assert labels["attributes"]["gender"]["from"] == {"gender": 1}
    assert labels["apparel"] == 2


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_feeds_label_coverage(name: str) -> None:
    path = FEEDS / name
    if not path.is_file():
        pytest.skip(f"the real feeds are not here ({path} is absent)")
    products, apparel, kind, colour = REAL[name]
    coverage = label_coverage(read_feed(path).products)
    assert (coverage.products, coverage.apparel) == (products, apparel)
    assert coverage.kind >= kind and coverage.labelled["colour"] >= colour
    if apparel:
        assert coverage.kind / coverage.apparel >= 0.9  # the target, from the feed alone


def test_a_feed_without_apparel_says_so() -> None:
    coverage = label_coverage([item(1, google_product_category="2616", title="Solarna lampa")])
    assert coverage.lines() == ["labels from the feed: none of the 1 products is clothing or shoes by its "
                                "google_product_category, product_type or title"]
    assert coverage.to_dict()["kind"] == {"labelled": 0, "coverage": 0.0}
