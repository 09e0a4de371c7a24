"""Shop the look on Discord: a photo of a person gets a row of garment buttons of its own; pressing one (an
interaction with our custom_id) answers with that garment's embeds."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from unittest.mock import AsyncMock

import discord
import pytest

from bot.discord import DiscordSettings, FashionBot, handlers, messages
from chat import Conversation, Sessions
from chat import replies as core
from index import SearchHit
from recommender import RecommenderSettings
from tests.auxil.fakes import FakeRecommender, make_catalog
from tests.auxil.outfits import outfit_photo, outfit_regions

from .test_handlers import TOKEN, Cdn, Sent, attachment
from .test_messages import EN, product


@pytest.fixture
def conversation(tmp_path: Path) -> Conversation:
    recommender = FakeRecommender(make_catalog(tmp_path / "catalog"))
    recommender.regions = outfit_regions()
    return Conversation(recommender, Sessions(10), album_size=6, max_results=12)


def rows(view: discord.ui.View) -> list[list[str]]:
    """Each Discord row's buttons: the custom_id of an action, the URL of a link."""
    laid: dict[int, list[str]] = {}
    for item in view.children:
        assert isinstance(item, discord.ui.Button) and item.row is not None
        laid.setdefault(item.row, []).append(item.custom_id or item.url or "")
    return [laid[row] for row in sorted(laid)]


def garments(view: discord.ui.View) -> list[str]:
    """The labels of the garment buttons."""
    return [item.label or "" for item in view.children
            if isinstance(item, discord.ui.Button) and (item.custom_id or "").startswith("fashionbot:region:")]


def colours(embeds: list[discord.Embed]) -> list[str]:
    return [(embed.title or "").split()[2] for embed in embeds]  # "1. Men's black tshirts no. 4"


async def test_a_person_gets_a_garment_row_and_a_press_on_shoes_answers_with_the_shoes(
        conversation: Conversation, tmp_path: Path) -> None:
    cdn, sent = Cdn({}), Sent()
    image = attachment("look.jpg", outfit_photo(), "image/jpeg", cdn=cdn)
    await handlers.guarded(sent, handlers.search(conversation, 42, [image]), "test")
    [top] = sent.calls
    assert top["content"].startswith("👕 Top — Matches 1–6.") and colours(top["embeds"])[:5] == ["red"] * 5
    laid = rows(top["view"])
    assert len(laid) <= 5 and all(len(row) <= 5 for row in laid)
    assert laid[-2:] == [["fashionbot:region:top", "fashionbot:region:bottom", "fashionbot:region:shoes"],
                         ["fashionbot:more", "fashionbot:style"]]
    assert garments(top["view"]) == ["✓ 👕 Top", "👖 Bottom", "👟 Shoes"]

    # The press arrives as an interaction, through the client's own dispatch.
    client = FashionBot(DiscordSettings(bot_token=TOKEN, _env_file=None),
                        RecommenderSettings(catalog=tmp_path / "c.csv", index=tmp_path / "i", _env_file=None))
    client.conversation = conversation
    press = SimpleNamespace(type=discord.InteractionType.component, data={"custom_id": "fashionbot:region:shoes"},
                            response=SimpleNamespace(defer=AsyncMock()), followup=SimpleNamespace(send=sent),
                            user=SimpleNamespace(id=42), locale=discord.Locale.american_english)
    await client.on_interaction(press)  # type: ignore[arg-type]
    shoes = sent.calls[1]
    assert shoes["content"].startswith("👟 Shoes — Matches 1–6.") and colours(shoes["embeds"])[:5] == ["black"] * 5
    assert garments(shoes["view"]) == ["👕 Top", "👖 Bottom", "✓ 👟 Shoes"]
    press.response.defer.assert_awaited_once()

    await handlers.guarded(sent, conversation.press(42, "region:top"), "test")  # the top goes on where it was
    assert sent.calls[2]["content"].startswith("👕 Top — Matches 7–12.")
    await client.close()


@pytest.mark.parametrize("count", [1, 6, 10])
def test_each_row_of_actions_keeps_a_row_of_its_own_beside_the_links(count: int) -> None:
    hits = [SearchHit(product(i), 0.9, i) for i in range(count)]
    garments = core.region_buttons(EN, ["full", "shoes", "bag"], "shoes")
    laid = rows(messages.view(core.results_buttons(EN, hits, 1, more=True, page=3, regions=garments)))
    links = [f"https://shop.example.com/p/{i}" for i in range(count)]
    assert laid == [*(links[i:i + 5] for i in range(0, count, 5)),
                    ["fashionbot:region:full", "fashionbot:region:shoes", "fashionbot:region:bag"],
                    ["fashionbot:more", "fashionbot:style"], ["fashionbot:rate:up:3", "fashionbot:rate:down:3"]]


def test_rows_that_cannot_all_fit_are_packed_as_before() -> None:
    many = [[core.Button(f"b{i}{j}", action=f"a{i}{j}") for j in range(2)] for i in range(7)]
    laid = rows(messages.view(many))
    assert [len(row) for row in laid] == [5, 5, 4]
