"""Rendering decisions: captions, buttons and texts, pure, within Telegram's limits, read from tables."""

from __future__ import annotations

import pytest

from catalog import Product
from chat import replies, uploads
from chat.i18n import language
from chat.replies import CAPTION_LIMIT, caption, product_label, results_buttons, results_text
from chat.replies import text_len as tg_len
from index import Filters, SearchHit
from recommender import BuildProgress, Guess, Style

EN = language("en")


def product(**fields: str) -> Product:
    base = {"id": "p1", "title": "White Canvas Sneaker", "link": "https://shop.example.com/p/1",
            "image_link": "/catalog/p1.jpg", "price": "49.90 EUR", "brand": "Acme"}
    return Product(**{**base, **fields})


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, "3. White Canvas Sneaker\n49.90 EUR · Acme\nhttps://shop.example.com/p/1"),
    ({"price": None}, "3. White Canvas Sneaker\nAcme\nhttps://shop.example.com/p/1"),
    ({"price": None, "brand": None}, "3. White Canvas Sneaker\nhttps://shop.example.com/p/1"),
    ({"title": "  Sneaker \n with\tspaces "}, "3. Sneaker with spaces\n49.90 EUR · Acme\nhttps://shop.example.com/p/1"),
    ({"title": ""}, "3. p1\n49.90 EUR · Acme\nhttps://shop.example.com/p/1"),
])
def test_caption(fields: dict, expected: str) -> None:
    assert caption(product(**fields), 3) == expected


@pytest.mark.parametrize(("fields", "keeps_link"), [
    ({"title": "Sneaker " * 400}, True),  # the title gives way to the link
    ({"title": "👟" * 1000}, True),  # emoji count twice in Telegram's length
    ({"link": "https://shop.example.com/" + "x" * 600}, False),  # a link that long lives only in its button
    ({"price": "9" * 5000, "title": "T" * 5000}, True),
])
def test_caption_always_fits_telegrams_limit(fields: dict, keeps_link: bool) -> None:
    text = caption(product(**fields), 10)
    assert tg_len(text) <= CAPTION_LIMIT
    assert text.startswith("10. ")
    assert (product(**fields).link in text) == keeps_link


def test_product_label_is_short_and_keeps_the_price() -> None:
    label = product_label(product(title="A very long product title that goes on and on and on"), 7)
    assert label.startswith("7. A very long") and label.endswith("… — 49.90 EUR") and len(label) <= 48


def hits(*products: Product) -> list[SearchHit]:
    return [SearchHit(p, 0.9, rank) for rank, p in enumerate(products)]


def test_results_buttons_have_a_link_per_web_link_then_more_and_style() -> None:
    rows = results_buttons(EN, hits(product(), product(id="p2", link="ftp://old/2")), 4, more=True)
    assert [(b.label[:2], b.url) for b in rows[0]] == [("4.", "https://shop.example.com/p/1")]
    assert [b.action for b in rows[1]] == ["more", "style"]
    assert [b.action for b in results_buttons(EN, hits(product()), 1, more=False)[-1]] == ["style"]


@pytest.mark.parametrize(("first", "count", "filters", "more", "expected"), [
    (1, 6, Filters(), True, "Matches 1–6. Tap a product to open it. More shows the next ones."),
    (7, 1, Filters(), False, "Matches 7. Tap a product to open it. That's all for this photo."),
    (1, 2, Filters(gender="women"), True, "Matches 1–2 (filter: women). Tap a product to open it. More shows"),
])
def test_results_text(first: int, count: int, filters: Filters, more: bool, expected: str) -> None:
    assert results_text(EN, first, count, filters, more=more).startswith(expected)


@pytest.mark.parametrize(("filters", "first_page", "expected"), [
    (Filters(color="red"), True, "Nothing in the catalog matches the filter red; “start over” removes it."),
    (Filters(), False, "No more matches for this photo. Send another photo to search again."),
    (Filters(color="red"), False, "No more matches for this photo with the filter red — “start over” widens"),
])
def test_no_more_text(filters: Filters, first_page: bool, expected: str) -> None:
    assert replies.no_more_text(EN, filters, first_page=first_page).startswith(expected)


STYLE = Style(category=Guess("Tshirts", 0.82), colour=Guess("Red", 0.641), gender=Guess("Men", 0.91), usage=None)


def test_style_text_shows_each_guess_with_its_confidence_and_the_filter() -> None:
    text = replies.style_text(EN, STYLE, Filters(usage="casual"))
    assert "• category: Tshirts (82%)\n• colour: Red (64%)\n• gender: Men (91%)\n• usage: not sure" in text
    assert "Filter: casual." in text
    assert "Send me a photo" in replies.style_text(EN, None, Filters())


def test_style_buttons_offer_narrowings_that_fit_callback_data_and_a_clear_button() -> None:
    long_style = Style(category=Guess("X" * 60, 0.5), colour=Guess("Red", 0.6), gender=None, usage=None)
    rows = replies.style_buttons(EN, long_style, Filters(gender="men"))
    data = [b.action for row in rows for b in row]
    assert data == ["style:color=red", "style:clear"]
    assert replies.style_buttons(EN, None, Filters()) == []


@pytest.mark.parametrize(("progress", "expected"), [
    (None, "Rebuilding the catalog index from feed.csv…\nstarting"),
    (BuildProgress(0, 0, 0.0), "Rebuilding the catalog index from feed.csv…\nstarting"),
    (BuildProgress(12, 30, 8.46), "Rebuilding the catalog index from feed.csv…\n40% (12/30 images), "
                                  "8.5 images/s"),
    (BuildProgress(30, 30, 9.0), "Rebuilding the catalog index from feed.csv…\n100% (30/30 images), "
                                 "9.0 images/s"),
])
def test_progress_text(progress: BuildProgress | None, expected: str) -> None:
    assert replies.progress_text("feed.csv", progress) == expected


def test_not_an_image_names_what_was_sent() -> None:
    assert uploads.not_an_image(EN, None, "report.pdf").startswith("That file isn't an image (report.pdf).")
