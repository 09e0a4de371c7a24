"""Several refinements in one message: what can be applied is, and the reply says what could not ("cheaper, in
black" on a catalog without prices shows the black items and says why it cannot go cheaper)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chat import Conversation, Page, Reply, Sessions
from tests.auxil.fakes import FakeRecommender, jpeg, make_catalog

NO_PRICE_EN = "None of the products shown has a price, so I can't go cheaper.\n"
NO_PRICE_RU = "Ни у одного из показанных товаров нет цены, поэтому дешевле не получится.\n"


def conversation_over(products) -> Conversation:
    return Conversation(FakeRecommender(products), Sessions(100), album_size=6, max_results=30)


@pytest.fixture
def unpriced(tmp_path: Path) -> Conversation:
    products = [dataclasses.replace(p, price=None, price_amount=None, price_currency=None)
                for p in make_catalog(tmp_path / "catalog")]
    return conversation_over(products)


@pytest.fixture
def priced(tmp_path: Path) -> Conversation:
    return conversation_over(make_catalog(tmp_path / "catalog"))


@pytest.mark.parametrize(("code", "words", "unmet", "filter_note"), [
    ("en", "cheaper, in black", NO_PRICE_EN, "Matches 1–5 (filter: black)."),
    ("en", "in black, cheaper", NO_PRICE_EN, "Matches 1–5 (filter: black)."),
    ("ru", "дешевле, в черном", NO_PRICE_RU, "Совпадения 1–5 (фильтр: черный)."),
    ("ru", "черные, подешевле", NO_PRICE_RU, "Совпадения 1–5 (фильтр: черный)."),
])
async def test_without_prices_the_colour_applies_and_the_reply_says_why_not_cheaper(
        unpriced: Conversation, code: str, words: str, unmet: str, filter_note: str) -> None:
    await unpriced.photo(1, jpeg("red"), language=code)
    page = await unpriced.text(1, words, language=code)
    assert isinstance(page, Page), page
    assert [item.product.color for item in page.album] == ["Black"] * 5  # all five black items, nothing else
    assert page.reply.text.startswith(unmet + filter_note)


async def test_cheaper_alone_without_prices_changes_nothing_and_says_why(unpriced: Conversation) -> None:
    first = await unpriced.photo(1, jpeg("red"))
    reply = await unpriced.text(1, "cheaper")
    assert isinstance(reply, Reply) and reply.text == NO_PRICE_EN.strip()
    second = await unpriced.more(1)  # the results stayed where they were: /more goes on to the next page
    assert isinstance(second, Page) and second.reply.text.startswith("Matches 7–12.")
    assert not {item.product.id for item in first.album} & {item.product.id for item in second.album}


async def test_with_prices_both_apply(priced: Conversation) -> None:
    first = await priced.photo(1, jpeg("red"))
    shown = sorted(item.product.price_amount for item in first.album)
    page = await priced.text(1, "in black, cheaper")
    assert isinstance(page, Page) and page.album
    assert all(item.product.color == "Black" and item.product.price_amount <= shown[(len(shown) - 1) // 2]
               for item in page.album)
    assert page.reply.text.startswith("Matches 1")  # nothing unmet to tell
    assert "(filter: black · up to €" in page.reply.text


async def test_before_a_photo_the_colour_is_kept_and_cheaper_is_explained(priced: Conversation) -> None:
    reply = await priced.text(1, "cheaper, in black")
    assert reply.text == ("“Cheaper” goes below the prices of the results I've shown, so ask for it once you've "
                          "seen some.\nNoted: black. Now send me a photo and I'll search with it.")
    page = await priced.photo(1, jpeg("red"))
    assert all(item.product.color == "Black" for item in page.album)


async def test_a_photo_captioned_cheaper_is_still_answered(priced: Conversation) -> None:
    await priced.photo(1, jpeg("blue"))  # an earlier photo's prices are no measure for the new one
    page = await priced.photo(1, jpeg("red"), words="cheaper, in black", language="ru")
    assert isinstance(page, Page) and [item.product.color for item in page.album] == ["Black"] * 5
    assert page.reply.text.startswith("«Дешевле» — значит дешевле уже показанных результатов")
