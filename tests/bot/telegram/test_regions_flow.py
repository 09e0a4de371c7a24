"""Shop the look on Telegram: a photo of a person gets a row of garments under its results; a tap on one sends
that garment's album — the real Application against the emulator, the fake Recommender seeing a person."""

from __future__ import annotations

import dataclasses

import pytest

from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.fakes import FakeRecommender, jpeg
from tests.auxil.outfits import outfit_photo, outfit_regions

from .conftest import ANN, contains

pytestmark = pytest.mark.usefixtures("bot_app")


def keyboard(call) -> list[list[dict]]:
    return call.params["reply_markup"]["inline_keyboard"]


def region_row(call) -> list[dict]:
    return next(row for row in keyboard(call) if row[0].get("callback_data", "").startswith("region:"))


def album_colours(call) -> list[str]:
    """The colour word of each caption ("1. Men's black tshirts no. 4" → 'black')."""
    return [item["caption"].split("\n")[0].split()[2] for item in call.params["media"]]


async def test_a_person_gets_the_garment_row_and_a_tap_on_shoes_sends_the_shoes_album(
        api: BotApiEmulator, recommender: FakeRecommender) -> None:
    recommender.regions = outfit_regions()
    api.send_photo(ANN, outfit_photo())
    [top_album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    [top] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    assert album_colours(top_album)[:5] == ["red"] * 5
    assert top.params["text"].startswith("👕 Top — Matches 1–6.")
    row = region_row(top)
    assert [(b["text"], b["callback_data"]) for b in row] == [
        ("✓ 👕 Top", "region:top"), ("👖 Bottom", "region:bottom"), ("👟 Shoes", "region:shoes")]
    assert all(len(b["callback_data"].encode()) <= 64 for r in keyboard(top) for b in r if "callback_data" in b)
    assert [b["callback_data"] for b in keyboard(top)[-2]] == ["more", "style"]  # More and Style stay where they were

    api.press_button(ANN, "region:shoes", message_id=top.result["message_id"])
    [_, shoes_album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2)
    [shoes] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("👟 Shoes — Matches 1–6"))
    assert album_colours(shoes_album)[:5] == ["black"] * 5
    assert [b["text"] for b in region_row(shoes)] == ["👕 Top", "👖 Bottom", "✓ 👟 Shoes"]
    assert shoes_album.at < shoes.at and len(api.calls_to("answerCallbackQuery")) == 1

    api.press_button(ANN, "more", message_id=shoes.result["message_id"])  # More pages the shoes on
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("👟 Shoes — Matches 7–12"))
    api.press_button(ANN, "region:top", message_id=shoes.result["message_id"])  # the top goes on where it was
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("👕 Top — Matches 7–12"))
    api.send_text(ANN, "/style")
    [style] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"))
    assert style.params["text"].startswith("What I see in your last photo — 👕 Top:")


async def test_a_garment_row_in_the_users_language_and_none_for_a_flat_lay(
        api: BotApiEmulator, recommender: FakeRecommender) -> None:
    recommender.regions = outfit_regions()
    api.send_photo(dataclasses.replace(ANN, language_code="ru"), outfit_photo())
    [russian] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("1–6"))
    assert [b["text"] for b in region_row(russian)] == ["✓ 👕 Верх", "👖 Низ", "👟 Обувь"]

    recommender.regions = None
    api.send_photo(ANN, jpeg("red"))
    [_, flat] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("1–6"), count=2)
    assert not any(b.get("callback_data", "").startswith("region:") for row in keyboard(flat) for b in row)
    api.press_button(ANN, "region:shoes", message_id=russian.result["message_id"])  # an earlier photo's button
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("earlier photo"))
