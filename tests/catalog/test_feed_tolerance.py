"""Where Merchant Center is tolerant the reader is too: encoded URLs, parsed prices, split image lists, bare XML."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog import Product, SkippedRow, parse_price, read_feed
from catalog.feed import web_url
from catalog.feed_formats import split_links

WriteFeed = Callable[[str, "str | bytes"], Path]


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("32.0 USD", 32.0, "USD"),
        ("USD 32.0", 32.0, "USD"),
        ("1,230.50 EUR", 1230.5, "EUR"),
        ("1.230,50 EUR", 1230.5, "EUR"),
        ("1 230,50 EUR", 1230.5, "EUR"),
        ("1230 UAH", 1230.0, "UAH"),
        ("4800 JPY", 4800.0, "JPY"),
        ("4,800 JPY", 4800.0, "JPY"),
        ("1999.00 RSD", 1999.0, "RSD"),
        ("12,99 EUR", 12.99, "EUR"),
        ("1.234.567 EUR", 1234567.0, "EUR"),
        ("12.99usd", 12.99, "USD"),
        ("€12,99", 12.99, "EUR"),
        ("12.99 €", 12.99, "EUR"),
        ("£5", 5.0, "GBP"),
        ("US$ 5", 5.0, "USD"),
        ("$12.99", 12.99, None),  # CAD, AUD, MXN … write "$" too
        ("¥4800", 4800.0, None),  # JPY or CNY
        ("$12 USD", 12.0, "USD"),
        ("€12 USD", 12.0, None),  # contradicts itself
        ("12.99", 12.99, None),
        ("0 USD", 0.0, "USD"),
        ("from 10 USD", None, "USD"),
        ("1.2.3 USD", None, "USD"),
        ("12 34 USD", None, "USD"),
        ("12,34,5 USD", None, "USD"),
        ("call us", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_parse_price(text: str | None, amount: float | None, currency: str | None) -> None:
    assert parse_price(text) == (amount, currency)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/p/1", "https://shop.example/p/1"),
        ("HTTPS://Shop.example/p?q=1,2&x=(1)", "https://Shop.example/p?q=1,2&x=(1)"),
        ("https://shop.example/a b.jpg", "https://shop.example/a%20b.jpg"),
        ("https://shop.example/товар?цвет=синий#фото",
         "https://shop.example/%D1%82%D0%BE%D0%B2%D0%B0%D1%80?%D1%86%D0%B2%D0%B5%D1%82="
         "%D1%81%D0%B8%D0%BD%D0%B8%D0%B9#%D1%84%D0%BE%D1%82%D0%BE"),
        ("https://shop.example/%D1%82 x", "https://shop.example/%D1%82%20x"),  # escapes kept, not doubled
        ("https://shop.example/100%cotton", "https://shop.example/100%25cotton"),  # a lone % is encoded
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://user@bücher.example:8080/a", "https://user@xn--bcher-kva.example:8080/a"),
        ("https://[::1]:80/a b", "https://[::1]:80/a%20b"),
        ("https://shop.example/a\"<b>{c}|d", "https://shop.example/a%22%3Cb%3E%7Bc%7D%7Cd"),
    ],
)
def test_web_urls_are_percent_encoded(url: str, expected: str) -> None:
    assert web_url(url) == expected
    assert web_url(expected) == expected  # encoding twice changes nothing


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://shop.example/a", "is not an http(s) URL"),
        ("//shop.example/a", "is not an http(s) URL"),
        ("https:///a", "is not an http(s) URL"),
        ("http://[::1", "is not a URL"),
        ("https://shop example/a", "has whitespace or control characters in its host"),
        ("javascript:alert(1)", "is not an http(s) URL"),
    ],
)
def test_web_urls_that_are_not(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        web_url(url)


@pytest.mark.parametrize(
    ("cell", "links"),
    [
        ("https://c.example/a.jpg,https://c.example/b.jpg", ["https://c.example/a.jpg", "https://c.example/b.jpg"]),
        ("https://c.example/a.jpg, https://c.example/b.jpg", ["https://c.example/a.jpg", "https://c.example/b.jpg"]),
        ("https://c.example/a,b.jpg,https://c.example/c.jpg", ["https://c.example/a,b.jpg", "https://c.example/c.jpg"]),
        ("https://c.example/a.jpg?v=1,2", ["https://c.example/a.jpg?v=1,2"]),
        ("images/a.jpg,images/b.jpg", ["images/a.jpg", "images/b.jpg"]),
        ("https://c.example/a.jpg,,", ["https://c.example/a.jpg"]),
        (" , ", []),
    ],
)
def test_split_links(cell: str, links: list[str]) -> None:
    assert split_links(cell) == links


def test_csv_comma_split_additional_images_and_encoded_urls(write_feed: WriteFeed) -> None:
    feed = write_feed(
        "feed.csv",
        "\ufeffid,title,link,image_link,additional_image_link,price,sale_price\r\n"
        '"p1","Tee","https://shop.example/tee ü","https://c.example/t 1.jpg",'
        '"https://c.example/t2.jpg?v=1,https://c.example/t3,x.jpg, https://c.example/t 4.jpg","32.0 USD","25 USD"\r\n'
        '"p2","Mug","https://shop.example/mug","https://c.example/m.jpg","","ask us",""\r\n',
    )
    report = read_feed(feed)
    assert report.skipped == []
    tee, mug = report.products
    assert tee.link == "https://shop.example/tee%20%C3%BC"
    assert tee.image_link == "https://c.example/t%201.jpg"
    assert tee.additional_image_links == (
        "https://c.example/t2.jpg?v=1", "https://c.example/t3,x.jpg", "https://c.example/t%204.jpg")
    assert (tee.price, tee.price_amount, tee.price_currency) == ("32.0 USD", 32.0, "USD")
    assert tee.extra["sale_price"] == "25 USD"
    assert (mug.price, mug.price_amount, mug.price_currency) == ("ask us", None, None)  # kept, not skipped
    assert report.columns == ("id", "title", "link", "image_link", "additional_image_link", "price", "sale_price")


BARE_CHANNEL = """<?xml version="1.0" encoding="UTF-8"?>
<channel>
  <title>Shop</title>
  <item>
    <id>c1</id>
    <title>Плаття</title>
    <link>https://shop.example/плаття</link>
    <image_link>https://c.example/c1.jpg</image_link>
    <additional_image_link>https://c.example/c1b.jpg,https://c.example/c1c.jpg</additional_image_link>
    <price>1230 UAH</price>
  </item>
  <item>
    <id>c2</id>
    <title>No picture</title>
    <link>https://shop.example/c2</link>
  </item>
</channel>
"""


def test_xml_with_channel_root_and_unprefixed_fields(write_feed: WriteFeed) -> None:
    report = read_feed(write_feed("feed.xml", BARE_CHANNEL))
    (c1,) = report.products
    assert (c1.id, c1.title, c1.price_amount, c1.price_currency) == ("c1", "Плаття", 1230.0, "UAH")
    assert c1.link == "https://shop.example/%D0%BF%D0%BB%D0%B0%D1%82%D1%82%D1%8F"
    assert c1.additional_image_links == ("https://c.example/c1b.jpg", "https://c.example/c1c.jpg")
    assert report.skipped == [SkippedRow(12, "c2", "missing image_link")]  # the line its <item> starts on


def test_xml_with_an_undeclared_g_prefix(write_feed: WriteFeed) -> None:
    text = ('<rss version="2.0"><channel>\n<item>\n<g:id>g1</g:id><title>RSS title</title><g:title>Tee</g:title>'
            "<link>https://shop.example/g1</link><g:image_link>https://c.example/g1.jpg</g:image_link>\n</item>\n"
            "<item>\n<g:id>g2</g:id>\n</item>\n</channel></rss>\n")
    report = read_feed(write_feed("feed.xml", text))
    assert [(p.id, p.title) for p in report.products] == [("g1", "Tee")]
    assert report.skipped == [SkippedRow(5, "g2", "missing title, link, image_link")]


def test_a_well_formed_xml_that_is_not_a_feed_is_still_refused(write_feed: WriteFeed) -> None:
    from catalog import FeedError

    with pytest.raises(FeedError, match="XML root is <html>"):
        read_feed(write_feed("feed.xml", "<html><body><item>x</item></body></html>"))


def test_prices_survive_the_index_store_round_trip() -> None:
    product = Product(id="p", title="T", link="https://s.example/p", image_link="https://c.example/p.jpg",
                      price="1.230,50 EUR")
    assert (product.price_amount, product.price_currency) == (1230.5, "EUR")
    stored = json.loads(json.dumps(product.to_dict()))
    assert stored["price_amount"] == 1230.5 and stored["price_currency"] == "EUR"
    assert Product.from_dict(stored) == product
    old = {key: value for key, value in stored.items() if key not in {"price_amount", "price_currency"}}
    assert Product.from_dict(old) == product  # records written before the fields existed
    explicit = Product(id="p", title="T", link="l", image_link="i", price="$12.99", price_amount=12.99,
                       price_currency="CAD")
    assert Product.from_dict(explicit.to_dict()) == explicit
    unpriced = Product.from_dict({"id": "p", "title": "T", "link": "l", "image_link": "i"})
    assert (unpriced.price, unpriced.price_amount, unpriced.price_currency) == (None, None, None)
