"""Refining by text, rating a page, a Russian-speaking user, shared links and inline cards — the real
Application against the emulator, fake Recommender."""

from __future__ import annotations

import pytest

from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.fakes import jpeg

from .conftest import ANN, contains

pytestmark = pytest.mark.usefixtures("bot_app")
OLGA = TgUser(2001, "Ольга", "olga", language_code="ru")


async def test_a_text_message_refines_the_results_at_once(api: BotApiEmulator) -> None:
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    api.send_text(ANN, "for women, under 30")
    [refined] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("(filter: women · up to €30)"))
    _, album = await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2)
    assert refined.params["text"].startswith("Matches 1–")
    captions = [item["caption"] for item in album.params["media"]]
    assert all("Women's" in caption for caption in captions)
    assert all(float(caption.split("\n")[1].split(" ")[0]) <= 30 for caption in captions)
    rows = refined.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in rows[-1]] == ["rate:up:2", "rate:down:2"]


async def test_a_feedback_tap_is_kept_once(api: BotApiEmulator, bot_app) -> None:
    api.send_photo(ANN, jpeg("blue"))
    [links] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    down = links.params["reply_markup"]["inline_keyboard"][-1][1]["callback_data"]
    api.press_button(ANN, down)
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Thanks — noted."))
    api.press_button(ANN, down)
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("You already rated this page"))
    [kept] = await bot_app.bot_data.assistant.conversation.feedback.ratings()
    assert not kept.liked and len(kept.products) == 6


async def test_a_russian_speaking_user_gets_russian_replies_buttons_and_commands(api: BotApiEmulator) -> None:
    [menu] = api.calls_to("setMyCommands", language_code="ru")
    assert menu.params["commands"][1] == {"command": "more", "description": "Следующие совпадения для последнего фото"}
    assert {c.params.get("language_code") for c in api.calls_to("setMyCommands")} == {None, "ru", "hi"}
    api.send_photo(OLGA, jpeg("red"))
    [page] = await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("Совпадения 1–6."))
    assert [b["text"] for b in page.params["reply_markup"]["inline_keyboard"][-2]] == ["Ещё ▸", "Стиль"]
    api.send_text(OLGA, "без платьев")
    await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("(фильтр: кроме: платье)"))
    api.send_text(OLGA, "абракадабра")
    await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("Я не понял «абракадабра»"))


async def test_start_shows_examples_to_tap_and_a_shared_link_opens_its_product(api: BotApiEmulator) -> None:
    api.send_text(ANN, "/start")
    [welcome] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Or tap an example"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    example = welcome.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    api.press_button(ANN, example)
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    api.send_text(ANN, "/start p_P003")
    [shared] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("The product you opened"))
    assert "https://shop.example.com/p/3" in str(shared.params["reply_markup"])


async def test_inline_mode_shares_product_cards(api: BotApiEmulator) -> None:
    nothing = api.send_inline_query(ANN, "")
    await api.wait_for("answerInlineQuery", inline_query_id=nothing)
    assert api.api.inline_answers[nothing] == []
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    query = api.send_inline_query(ANN, "red")
    [answer] = await api.wait_for("answerInlineQuery", inline_query_id=query)
    cards = api.api.inline_answers[query]
    assert cards and answer.params["is_personal"]
    buttons = cards[0]["reply_markup"]["inline_keyboard"][0]
    assert buttons[0]["url"].startswith("https://shop.example.com/p/")
    assert buttons[1]["url"].startswith("https://t.me/fashionbot_test_bot?start=p_P")
