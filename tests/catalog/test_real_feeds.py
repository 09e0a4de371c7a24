"""Real Merchant Center feeds shops committed (shared/real-feeds, see its SOURCES.md) read completely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog import diagnose, read_feed

FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "real-feeds"

# file → (items SOURCES.md states, the currency, additional image links in total or None where not stated)
EXPECTED = {
    "rss-rybka-apparel-uk-ru.xml": (32, "UAH", 130),
    "rss-opispot-tshirts-cdata-bom.xml": (486, "USD", 4270),
    "tsv-luxemia-apparel.tsv": (72, "USD", 0),
    "csv-furugi-vintage-bom-multiline.csv": (505, "JPY", None),
    "csv-kupilica-household-bom-allquoted.csv": (417, "RSD", None),
}


def _feed(name: str) -> Path:
    if not FEEDS.is_dir():
        pytest.skip(f"the real feeds are not here ({FEEDS} is absent)")
    path = FEEDS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def test_the_counts_here_are_the_ones_sources_md_states() -> None:
    sources = FEEDS / "SOURCES.md"
    if not sources.is_file():
        pytest.skip(f"{sources} is absent")
    table = dict(re.findall(r"^\| (\S+\.(?:xml|tsv|csv)) \| .+? \| (\d+) \|$", sources.read_text("utf-8"), re.M))
    assert {name: int(items) for name, items in table.items()} == {name: n for name, (n, _, _) in EXPECTED.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_item_of_a_real_feed_is_a_product(name: str) -> None:
    items, currency, additional = EXPECTED[name]
    report = read_feed(_feed(name))
    assert report.skipped == []
    assert len(report.products) == items
    assert len({p.id for p in report.products}) == items
    for product in report.products:
        assert product.link.startswith("https://") and product.image_is_remote
        assert "\r" not in product.title and product.title == product.title.strip()
        assert product.price_amount is not None and product.price_amount > 0, product.price
        assert product.price_currency == currency, product.price
        assert all(link.startswith("https://") and "," not in link for link in product.additional_image_links)
    if additional is not None:
        assert sum(len(p.additional_image_links) for p in report.products) == additional


def test_comma_separated_image_lists_in_real_csvs_are_split() -> None:
    furugi = read_feed(_feed("csv-furugi-vintage-bom-multiline.csv")).products
    assert sum(len(p.additional_image_links) > 1 for p in furugi) == 504  # SOURCES.md: 504 rows hold lists
    kupilica = read_feed(_feed("csv-kupilica-household-bom-allquoted.csv")).products
    assert sum(not p.additional_image_links for p in kupilica) == 41  # SOURCES.md: 41 rows leave it empty


def test_real_feeds_diagnose_as_sources_md_describes_them() -> None:
    rybka = diagnose(read_feed(_feed("rss-rybka-apparel-uk-ru.xml")))
    kinds = {warning.kind: warning for warning in rybka.warnings}
    assert kinds["duplicate_link"].count == 16 and kinds["duplicate_image_link"].count == 16
    assert rybka.columns["size"] == 28 and "google_product_category" not in rybka.columns
    assert rybka.currencies == {"UAH": 32}

    opispot = diagnose(read_feed(_feed("rss-opispot-tshirts-cdata-bom.xml")))
    assert {w.kind: w.count for w in opispot.warnings} == {"duplicate_image_link": 395}
    assert opispot.columns["pattern"] == 475 and opispot.columns["material"] == 200

    furugi = diagnose(read_feed(_feed("csv-furugi-vintage-bom-multiline.csv")))
    empty = next(w for w in furugi.warnings if w.kind == "empty_column")
    assert empty.examples == ["size", "color", "gender"]
    assert furugi.columns["brand"] == 505 - 308

    kupilica = diagnose(read_feed(_feed("csv-kupilica-household-bom-allquoted.csv")))
    empty = next(w for w in kupilica.warnings if w.kind == "empty_column")
    assert set(empty.examples) == {"gtin", "item_group_id", "product_highlights", "color", "material", "size",
                                   "age_group", "gender", *(f"custom_label_{i}" for i in range(5))}
    assert kupilica.columns["sale_price"] == 417 - 130 and kupilica.columns["product_type"] == 417 - 11

    luxemia = diagnose(read_feed(_feed("tsv-luxemia-apparel.tsv")))
    assert luxemia.warnings == [] and set(luxemia.columns.values()) == {72} and len(luxemia.columns) == 21
