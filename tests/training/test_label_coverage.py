"""Label coverage as `fashionbot eval` reports it: sources counted per attribute, a feed's apparel products."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog.product import Product
from training.label_coverage import Coverage, catalog_coverage, coverage_table, feed_coverage

REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "real-feeds"


def product(pid: str, labels: dict | None = None, gpc: str | None = None) -> Product:
    return Product(pid, f"item {pid}", f"https://shop.example/{pid}", f"/img/{pid}.jpg",
                   google_product_category=gpc, labels=labels or {})


def test_each_attribute_counts_its_products_by_where_the_label_came_from():
    products = [product("1", {"category": {"value": "Tshirts", "source": "feed"},
                              "colour": {"value": "Red", "source": "image"}}),
                product("2", {"category": {"value": "Jeans", "source": "image"}}),
                product("3")]
    truth = [replace(products[0], labels={}, color="Blue", product_type="Apparel > Topwear > Tshirts"),
             replace(products[1], labels={}, product_type="Apparel > Bottomwear > Jeans"), products[2]]
    coverage = catalog_coverage("shop", products, truth)
    assert coverage.counts["category"] == {"feed": 1, "image": 1, "none": 1}
    assert coverage.counts["colour"] == {"feed": 0, "image": 1, "none": 2}
    assert coverage.counts["gender"] == {"feed": 0, "image": 0, "none": 3}
    assert coverage.labelled_share("category") == pytest.approx(2 / 3)
    assert coverage.right == {"category": 2, "sub_category": 0, "colour": 0, "gender": 0}
    table = coverage_table([coverage])
    assert "| shop | 3 (3) | category | 1 | 1 | 1 | 67% | 100% |" in table
    assert "| shop | 3 (3) | colour | 0 | 1 | 2 | 33% | 0% |" in table and "| gender | 0 | 0 | 3 | 0% | – |" in table


def test_a_feed_without_images_says_so_and_never_counts_an_image_label():
    table = coverage_table([Coverage("feed.xml", 10, 4, {"colour": {"feed": 4, "image": 0, "none": 0}},
                                     images=False)])
    assert "| feed.xml | 10 (4) | colour | 4 | not measured | 0 | 100% ✓ (feed only) | – |" in table


def test_a_real_feed_counts_only_its_apparel_and_only_from_its_text():
    feed = REAL_FEEDS / "rss-opispot-tshirts-cdata-bom.xml"
    if not feed.is_file():
        pytest.skip(f"{feed} is not here")
    coverage = feed_coverage(feed)
    assert (coverage.products, coverage.apparel) == (486, 474)  # not its mugs, stickers and laptop sleeve
    assert not coverage.images and all(counts["image"] == 0 for counts in coverage.counts.values())
    assert all(sum(counts.values()) == coverage.apparel for counts in coverage.counts.values())
