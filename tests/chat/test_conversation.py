"""The conversation with a fake recommender: refining in words, prices, ratings, shared links, languages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chat import Conversation, Page, Reply, Sessions
from chat.feedback import SqliteFeedback
from recommender.settings import DEMO_PHOTOS
from tests.auxil.fakes import FakeRecommender, jpeg, make_catalog


@pytest.fixture
def products(tmp_path: Path):
    found = make_catalog(tmp_path / "catalog")
    # Awkward prices: two without one, one in another currency; a campaign label on three products.
    found[0] = dataclasses.replace(found[0], price=None, price_amount=None, price_currency=None)
    found[6] = dataclasses.replace(found[6], price="call us", price_amount=None, price_currency=None)
    found[12] = dataclasses.replace(found[12], price="5 USD", price_amount=5.0, price_currency="USD")
    for i in (1, 2, 3):
        found[i] = dataclasses.replace(found[i], extra={**found[i].extra, "custom_label_0": "Summer Sale"})
    return found


@pytest.fixture
def conversation(products, tmp_path: Path) -> Conversation:
    return Conversation(FakeRecommender(products), Sessions(100), album_size=6, max_results=30,
                        feedback=SqliteFeedback(tmp_path / "feedback.sqlite"), examples=DEMO_PHOTOS)


def ids(outcome: Page | Reply) -> list[str]:
    assert isinstance(outcome, Page), outcome
    return [item.product.id for item in outcome.album]


async def test_refining_by_text_answers_at_once_with_the_refined_album(conversation: Conversation) -> None:
    await conversation.photo(1, jpeg("red"))
    women = await conversation.text(1, "for women")
    assert all(item.product.gender == "Women" for item in women.album)
    assert women.reply.text.startswith("Matches 1–6 (filter: women).")
    assert [b.action for b in women.reply.buttons[-1]] == ["rate:up:2", "rate:down:2"]
    no_dresses = await conversation.text(1, "no dresses")
    assert all("Dress" not in item.product.product_type for item in no_dresses.album)
    assert all(item.product.gender == "Women" for item in no_dresses.album)  # refinements combine
    again = await conversation.text(1, "start over")
    assert "filter" not in again.reply.text and len(again.album) == 6


async def test_sort_by_price_never_shows_a_product_without_a_price_as_the_cheapest(conversation) -> None:
    await conversation.photo(1, jpeg("red"))  # P000 (no price) is the closest red item
    page = await conversation.text(1, "sort by price")
    prices = [item.product.price_amount for item in page.album]
    assert prices == sorted(prices) and None not in prices
    assert "cheapest first" in page.reply.text
    everything = [*ids(page)]
    while isinstance(outcome := await conversation.more(1), Page):
        everything += ids(outcome)
    assert everything[-2:] == ["P000", "P006"]  # unpriced, last
    assert everything.index("P012") == len(everything) - 3  # the only USD price, after all EUR ones


async def test_cheaper_and_under_use_the_parsed_amounts(conversation: Conversation) -> None:
    first = await conversation.photo(1, jpeg("blue"))
    shown = sorted(i.product.price_amount for i in first.album if i.product.price_currency == "EUR")
    cheaper = await conversation.text(1, "cheaper")
    assert all(i.product.price_amount <= shown[(len(shown) - 1) // 2] for i in cheaper.album)
    under = await conversation.text(1, "under 30")
    assert all(i.product.price_amount <= 30 and i.product.price_currency == "EUR" for i in under.album)
    assert "up to €30" in under.reply.text


async def test_nothing_matching_says_so_and_offers_the_nearest_relaxation(conversation: Conversation) -> None:
    await conversation.photo(1, jpeg("green"))
    nothing = await conversation.text(1, "under 10")
    assert isinstance(nothing, Reply)
    assert nothing.text == ("Nothing among the matches for your photo is up to €10. "
                            "The nearest I have: up to €20.99.")
    assert [b.action for row in nothing.buttons for b in row] == ["relax", "start-over"]
    nearest = await conversation.press(1, "relax")
    assert [i.product.price for i in nearest.album] == ["20.99 EUR"]


async def test_a_word_it_does_not_know_gets_a_short_answer_that_shows_what_works(conversation) -> None:
    reply = await conversation.text(1, "flibbertigibbet")
    assert reply.text.startswith("I didn't understand “flibbertigibbet”. Send a photo, then tell me what to change")
    before = await conversation.text(1, "in red")  # before any photo: kept for the next one
    assert before.text == "Noted: red. Now send me a photo and I'll search with it."
    page = await conversation.photo(1, jpeg("blue"))
    assert all(item.product.color == "Red" for item in page.album)


async def test_a_caption_refines_the_photo_it_comes_with(conversation: Conversation) -> None:
    page = await conversation.photo(1, jpeg("red"), words="for men, no shoes")
    assert all(i.product.gender == "Men" and "Shoes" not in i.product.product_type for i in page.album)


async def test_one_rating_per_page_is_kept(conversation: Conversation) -> None:
    page = await conversation.photo(1, jpeg("red"))
    up, down = page.reply.buttons[-1]
    assert (await conversation.press(1, down.action)).text.startswith("Thanks — noted.")
    assert (await conversation.press(1, up.action)).text == "You already rated this page — thank you!"
    assert (await conversation.press(1, "rate:up:99")).text.startswith("That page is too old")
    [kept] = await conversation.feedback.ratings()
    assert not kept.liked and len(kept.products) == 6 and kept.photo and kept.categories[0]


@pytest.mark.parametrize(("code", "start", "style", "no_more"), [
    ("ru", "Совпадения 1–5 (фильтр: красный)", "Стиль", "Больше совпадений"),
    ("hi", "मिलते-जुलते उत्पाद 1–5 (फ़िल्टर: लाल)", "स्टाइल", "फ़िल्टर लाल के साथ"),
    ("en-GB", "Matches 1–5 (filter: red)", "Style", "No more matches"),
    ("pt-BR", "Matches 1–5 (filter: red)", "Style", "No more matches"),  # no catalog: English
])
async def test_replies_and_buttons_come_in_the_users_language(conversation: Conversation, code: str, start: str,
                                                             style: str, no_more: str) -> None:
    await conversation.photo(5, jpeg("blue"), language=code)
    page = await conversation.text(5, {"ru": "красные", "hi": "लाल"}.get(code[:2], "red"))
    assert page.reply.text.startswith(start)
    assert page.reply.buttons[-2][-1].label == style
    assert (await conversation.more(5)).text.startswith(no_more)  # remembered for calls without a code


async def test_start_welcomes_with_example_photos_to_tap(conversation: Conversation) -> None:
    welcome = await conversation.start(1)
    assert len(welcome.album) == 8 and len(welcome.reply.text.splitlines()) == 2
    first = welcome.reply.buttons[0][0]
    assert first.action == "example:casual-shoes-2831.jpg"
    assert isinstance(await conversation.press(1, first.action), Page)
    assert Conversation.commands("ru")[0] == ("start", "Начало: что я умею, с примерами фото")


async def test_shared_links_open_a_product_or_a_collection(conversation: Conversation) -> None:
    product = await conversation.start(2, "p_P007")
    assert "P007" in ids(product) and product.reply.text.startswith("The product you opened comes first")
    assert {item.product.color for item in product.album[:5]} == {"Blue"}  # P007's colour: the fake's likeness
    collection = await conversation.start(3, "c_summer-sale")
    assert sorted(ids(collection)) == ["P001", "P002", "P003"]
    assert "summer-sale" in collection.reply.text
    women = await conversation.text(3, "for women")  # refining stays within the collection: P003 is its woman's
    assert ids(women) == ["P003"] and women.album[0].product.gender == "Women"
    assert (await conversation.start(4, "p_nope")).text.startswith("That link points to something")
    assert isinstance(await conversation.start(4, "garbage"), Page)  # an unknown payload: the welcome


async def test_inline_mode_offers_the_current_results_refined_by_the_words_typed(conversation) -> None:
    assert await conversation.inline(1, "") == []
    await conversation.photo(1, jpeg("red"))
    cards = await conversation.inline(1, "")
    assert len(cards) == 20 and cards[0].number == 1
    red = await conversation.inline(1, "red")
    assert red and all(card.product.color == "Red" for card in red)
    assert len(red) == sum(product.color == "Red" for product in conversation.recommender.products)


async def test_a_photo_nothing_in_the_catalog_is_close_to_gets_an_honest_answer(conversation: Conversation) -> None:
    recommender = conversation.recommender
    recommender.similarity_floor = 0.5
    close = await conversation.photo(1, jpeg("red"))  # the fake's similarity: 1 − colour distance, ≈ 1 here
    assert "couldn't find anything close" not in close.reply.text
    recommender.similarity_floor = 1.01  # nothing can reach it
    far = await conversation.photo(2, jpeg("red"), language="ru")
    assert far.reply.text.startswith("Я не нашёл в каталоге ничего похожего")
    assert len(far.album) == 6  # the nearest are still offered, with their links
    more = await conversation.more(2, language="ru")
    assert "ничего похожего" not in more.reply.text  # said once, for the photo
