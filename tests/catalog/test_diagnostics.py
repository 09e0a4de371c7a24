"""diagnose(): coverage per column, currencies, and the warnings `fashionbot catalog check` prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from catalog import FeedReport, Product, SkippedRow, diagnose, read_feed

WriteFeed = Callable[[str, "str | bytes"], Path]

FEED = "\n".join([
    "id\ttitle\tlink\timage_link\tprice\tsale_price\tcolor\tmaterial",  # 1
    "a\tShirt\thttps://s.example/a\thttps://c.example/a.jpg\t10 USD\t12 USD\tred\t",  # 2
    "b\tShirt\thttps://s.example/a\thttps://c.example/a.jpg\t9,50 EUR\t\t\t",  # 3
    f"c\t{'Long ' * 40}\thttps://s.example/c\thttps://c.example/c.jpg\t$5\t\tblue\t",  # 4
    "d\tMug\thttps://s.example/d\thttps://c.example/d.jpg\tcall us\tsoon\t\t",  # 5
    "e\tFree\thttps://s.example/e\thttps://c.example/e.jpg\t\t\t\t",  # 6
    "f\tNo link\t\thttps://c.example/f.jpg\t1 USD\t\t\t",  # 7
    "",
])


def test_warnings_counts_and_examples(write_feed: WriteFeed) -> None:
    diagnosis = diagnose(read_feed(write_feed("feed.tsv", FEED)), source="feed.tsv")
    assert diagnosis.products == 5 and diagnosis.usable
    assert diagnosis.skipped == [SkippedRow(7, "f", "missing link")]
    assert diagnosis.columns == {"id": 5, "title": 5, "link": 5, "image_link": 5, "price": 4, "sale_price": 2,
                                 "color": 2, "material": 0}
    assert diagnosis.currencies == {"USD": 1, "EUR": 1}
    kinds = {warning.kind: warning for warning in diagnosis.warnings}
    assert set(kinds) == {"currencies", "price_missing", "price_unparseable", "price_without_currency",
                          "sale_price_unparseable", "sale_price_not_lower", "long_title", "duplicate_link",
                          "duplicate_image_link", "empty_column"}
    assert kinds["currencies"].examples == ["USD", "EUR"]
    assert kinds["price_missing"].examples == [{"id": "e", "value": "(none)"}]
    assert kinds["price_unparseable"].examples == [{"id": "d", "value": "call us"}]
    assert kinds["price_without_currency"].examples == [{"id": "c", "value": "$5"}]
    assert kinds["sale_price_not_lower"].examples == [{"id": "a", "value": "12 USD (price 10 USD)"}]
    assert kinds["long_title"].count == 1 and kinds["long_title"].examples[0]["id"] == "c"
    assert kinds["duplicate_link"].count == 1
    assert kinds["duplicate_link"].examples == [{"value": "https://s.example/a", "ids": ["a", "b"], "count": 2}]
    assert kinds["empty_column"].examples == ["material"]


def test_json_and_text(write_feed: WriteFeed) -> None:
    diagnosis = diagnose(read_feed(write_feed("feed.tsv", FEED)), source="feed.tsv")
    data = json.loads(diagnosis.to_json())
    assert {"products", "skipped", "columns", "warnings"} <= data.keys()
    assert data["products"] == 5
    assert data["skipped"] == [{"line": 7, "id": "f", "reason": "missing link"}]
    assert data["columns"]["color"] == {"filled": 2, "coverage": 0.4}
    assert all({"kind", "message", "count", "examples"} == w.keys() for w in data["warnings"])
    text = diagnosis.text()
    assert "5 products would be indexed, 1 row skipped" in text
    assert "color" in text and "40.0%" in text
    assert "line 7 (f): missing link" in text
    assert "2 currencies in one feed: USD (1), EUR (1)" in text


def test_skipped_rows_beyond_twenty_are_counted_not_listed() -> None:
    skipped = [SkippedRow(i + 2, None, "missing id") for i in range(25)]
    diagnosis = diagnose(FeedReport([], skipped, ""))
    assert not diagnosis.usable
    text = diagnosis.text()
    assert "skipped (first 20 of 25):" in text and "line 21:" in text and "line 22:" not in text
    assert "no usable product" in text


def test_a_hand_made_report_without_columns() -> None:
    products = [Product(id="1", title="T", link="ftp://x/1", image_link="/i.jpg", brand="B", extra={"size": "M"}),
                Product(id="2", title=" ", link="https://x/2", image_link="/j.jpg")]
    diagnosis = diagnose(FeedReport(products, [], ""))
    assert diagnosis.columns == {"id": 2, "title": 2, "link": 2, "image_link": 2, "brand": 1, "size": 1}
    kinds = {warning.kind for warning in diagnosis.warnings}
    assert {"link_not_http", "empty_title", "price_missing"} <= kinds
    assert "currencies" not in kinds and "duplicate_link" not in kinds
