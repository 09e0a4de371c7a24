"""Shop the look in the conversation: a photo of a person is searched per garment, with buttons to switch, each
garment with its own More, /style and refinements; sessions keep it all across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chat import Conversation, Page, Reply, Sessions, session_codec
from chat.feedback import SqliteFeedback
from chat.session_store import MemorySessionStore
from chat.state import Session
from recommender import Query
from recommender.protocol import Region
from tests.auxil.fakes import FakeRecommender, jpeg, make_catalog
from tests.auxil.outfits import outfit_colour, outfit_photo, outfit_regions


@pytest.fixture
def recommender(tmp_path: Path) -> FakeRecommender:
    recommender = FakeRecommender(make_catalog(tmp_path / "catalog"))
    recommender.regions = outfit_regions()  # every photo is a person in a red top, blue trousers, black shoes
    return recommender


@pytest.fixture
def conversation(recommender: FakeRecommender, tmp_path: Path) -> Conversation:
    return Conversation(recommender, Sessions(100), album_size=6, max_results=30,
                        feedback=SqliteFeedback(tmp_path / "feedback.sqlite"))


def page(outcome: Page | Reply | None) -> Page:
    assert isinstance(outcome, Page), outcome
    return outcome


def colours(outcome: Page | Reply | None) -> list[str]:
    return [(item.product.color or "").lower() for item in page(outcome).album]


def region_row(outcome: Page | Reply | None) -> list[tuple[str, str | None]]:
    reply = outcome.reply if isinstance(outcome, Page) else outcome
    assert reply is not None
    rows = [row for row in reply.buttons if any((b.action or "").startswith("region:") for b in row)]
    return [(b.label, b.action) for b in rows[0]] if rows else []


def mostly(colour: str, outcome: Page | Reply | None) -> bool:
    """The five products of that colour the fake catalog has come first."""
    return colours(outcome)[:5] == [colour] * 5


async def test_a_person_gets_the_most_prominent_garment_first_and_a_row_to_switch(conversation) -> None:
    first = await conversation.photo(1, outfit_photo())
    assert mostly(outfit_colour("top"), first)
    assert first.reply.text.startswith("👕 Top — Matches 1–6.")
    assert region_row(first) == [("✓ 👕 Top", "region:top"), ("👖 Bottom", "region:bottom"),
                                 ("👟 Shoes", "region:shoes")]
    actions = [[b.action for b in row] for row in first.reply.buttons[-3:]]
    assert actions == [["region:top", "region:bottom", "region:shoes"], ["more", "style"], ["rate:up:1", "rate:down:1"]]

    shoes = await conversation.press(1, "region:shoes")
    assert mostly(outfit_colour("shoes"), shoes)
    assert shoes.reply.text.startswith("👟 Shoes — Matches 1–6.")
    assert region_row(shoes)[2] == ("✓ 👟 Shoes", "region:shoes") and region_row(shoes)[0][0] == "👕 Top"


async def test_each_garment_has_its_own_more_and_switching_back_goes_on_where_it_was(conversation) -> None:
    top = await conversation.photo(1, outfit_photo())
    top_more = await conversation.more(1)
    assert top_more.reply.text.startswith("👕 Top — Matches 7–12.")
    bottom = await conversation.press(1, "region:bottom")
    assert bottom.reply.text.startswith("👖 Bottom — Matches 1–6.") and mostly(outfit_colour("bottom"), bottom)
    bottom_more = await conversation.press(1, "more")
    assert bottom_more.reply.text.startswith("👖 Bottom — Matches 7–12.")

    top_again = await conversation.press(1, "region:top")
    assert top_again.reply.text.startswith("👕 Top — Matches 13–18.")
    seen_top = [item.product.id for outcome in (top, top_more, top_again) for item in page(outcome).album]
    assert len(set(seen_top)) == 18  # nothing repeated within the garment
    bottom_again = await conversation.press(1, "region:bottom")
    assert bottom_again.reply.text.startswith("👖 Bottom — Matches 13–18.")
    # Pages are numbered for the user across garments, and each can be rated.
    assert [page(o).number for o in (top, top_more, bottom, bottom_more, top_again, bottom_again)] == [1, 2, 3, 4, 5, 6]
    rated = await conversation.press(1, "rate:up:3")
    assert isinstance(rated, Reply) and "Thanks" in rated.text
    [rating] = await conversation.feedback.ratings()
    assert rating.photo.endswith("#bottom") and rating.products == tuple(i.product.id for i in bottom.album)


async def test_style_tells_what_it_sees_in_the_garment_shown(conversation) -> None:
    await conversation.photo(1, outfit_photo())
    top = await conversation.style(1, "")
    assert top.text.startswith("What I see in your last photo — 👕 Top:") and "colour: Red (" in top.text
    await conversation.press(1, "region:shoes")
    shoes = await conversation.press(1, "style")
    assert shoes.text.startswith("What I see in your last photo — 👟 Shoes:") and "colour: Black (" in shoes.text
    await conversation.press(1, "region:top")
    again = await conversation.style(1, "")
    assert "— 👕 Top:" in again.text and "colour: Red (" in again.text


async def test_a_refinement_applies_to_the_garment_shown_and_stays_with_it(conversation) -> None:
    await conversation.photo(1, outfit_photo())
    women = await conversation.text(1, "for women")
    assert women.reply.text.startswith("👕 Top — Matches 1–6 (filter: women).")
    assert all(item.product.gender == "Women" for item in women.album)
    assert region_row(women)[0] == ("✓ 👕 Top", "region:top")  # the row stays on a refined page

    shoes = await conversation.press(1, "region:shoes")
    assert "filter" not in shoes.reply.text and mostly("black", shoes)
    assert {item.product.gender for item in shoes.album} == {"Men", "Women"}
    cheap = await conversation.text(1, "under 30")
    assert all(item.product.price_amount <= 30 for item in cheap.album)
    assert cheap.reply.text.startswith("👟 Shoes — Matches 1–6 (filter: up to €30).")

    top = await conversation.press(1, "region:top")
    assert top.reply.text.startswith("👕 Top — Matches 7–12 (filter: women).")
    assert all(item.product.gender == "Women" for item in top.album)
    narrowed = await conversation.style(1, "red")  # /style words narrow the garment shown too
    assert "red" in narrowed.text
    shoes_again = await conversation.press(1, "region:shoes")
    assert shoes_again.reply.text.startswith("👟 Shoes — Matches 7–11 (filter: up to €30).")  # 11 cost ≤ €30


async def test_a_caption_refines_every_garment_of_its_photo(conversation) -> None:
    first = await conversation.photo(1, outfit_photo(), words="for women")
    assert first.reply.text.startswith("👕 Top — Matches 1–6 (filter: women).")
    bottom = await conversation.press(1, "region:bottom")
    assert bottom.reply.text.startswith("👖 Bottom — Matches 1–6 (filter: women).")
    assert all(item.product.gender == "Women" for item in bottom.album)


async def test_a_garment_that_has_nothing_left_still_offers_the_others(conversation) -> None:
    await conversation.photo(1, outfit_photo())
    nothing = await conversation.text(1, "under 5")
    assert isinstance(nothing, Reply) and nothing.text.startswith("👕 Top — Nothing among the matches")
    assert [b.action for b in nothing.buttons[0]] == ["relax"] and region_row(nothing)[1][1] == "region:bottom"
    bottom = await conversation.press(1, "region:bottom")
    assert mostly("blue", bottom)
    for _ in range(4):
        await conversation.more(1)
    done = await conversation.more(1)
    assert isinstance(done, Reply) and done.text.startswith("👖 Bottom — No more matches for this photo.")
    assert [action for _, action in region_row(done)] == ["region:top", "region:bottom", "region:shoes"]


async def test_a_photo_without_a_person_is_answered_as_before(conversation, recommender) -> None:
    recommender.regions = None  # a flat-lay: the one region "whole"
    flat = await conversation.photo(1, jpeg("red"))
    assert flat.reply.text.startswith("Matches 1–6.")
    assert [[b.action for b in row] for row in flat.reply.buttons[-2:]] == [["more", "style"],
                                                                              ["rate:up:1", "rate:down:1"]]
    assert region_row(flat) == []
    assert (await conversation.style(1, "")).text.startswith("What I see in your last photo:\n")
    session = await conversation.sessions.get(1)
    assert (session.regions, session.region, session.pages[-1].photo) == ([], "", session.photo)


async def test_a_region_button_of_an_earlier_photo_says_so(conversation, recommender) -> None:
    await conversation.photo(1, outfit_photo())
    recommender.regions = None
    await conversation.photo(1, jpeg("green"))
    stale = await conversation.press(1, "region:shoes")
    assert isinstance(stale, Reply) and stale.text.startswith("That button belongs to an earlier photo.")


async def test_after_a_model_change_a_garment_button_asks_for_the_photo_again(recommender, tmp_path) -> None:
    store = MemorySessionStore(10)
    before = Conversation(recommender, Sessions(10, store=store, fingerprint=recommender.fingerprint),
                          album_size=6, max_results=30)
    await before.photo(1, outfit_photo())
    retrained = FakeRecommender(make_catalog(tmp_path / "catalog"), fingerprint="fake-colours-2")
    after = Conversation(retrained, Sessions(10, store=store, fingerprint=retrained.fingerprint),
                         album_size=6, max_results=30)
    outdated = await after.press(1, "region:shoes")
    assert isinstance(outdated, Reply) and outdated.text.startswith("I was updated since your last photo")
    session = await after.sessions.get(1)
    assert session is not None and (session.regions, session.region) == ([], "")


async def test_region_labels_come_in_the_users_language(conversation) -> None:
    russian = await conversation.photo(1, outfit_photo(), language="ru")
    assert [label for label, _ in region_row(russian)] == ["✓ 👕 Верх", "👖 Низ", "👟 Обувь"]
    assert russian.reply.text.startswith("👕 Верх — ")
    hindi = await conversation.press(1, "region:shoes", language="hi")
    assert [label for label, _ in region_row(hindi)] == ["👕 टॉप", "👖 बॉटम", "✓ 👟 जूते"]


# ---- sessions kept ---------------------------------------------------------------------------------------------
def test_a_session_with_garments_round_trips_and_an_old_one_without_them_loads() -> None:
    session = Session()
    session.start(_query(0.1), "ab12", [])
    assert session_codec.loads(session_codec.dumps(session), Session).regions == []

    session.start(_query(0.2), "cd34", [Region("top", (0, 0, 60, 40), _query(0.2), 1.0),
                                        Region("shoes", (0, 90, 60, 120), _query(0.9), 0.4)])
    session.shown, session.offset = {"P001"}, 6
    assert session.show_region("shoes")
    restored = session_codec.loads(session_codec.dumps(session), Session)
    assert (restored.region, restored.region_names()) == ("shoes", ["top", "shoes"])
    assert [r.box for r in restored.regions] == [(0, 0, 60, 40), (0, 90, 60, 120)]
    assert restored.query is not None and float(restored.query.vector[0]) == pytest.approx(0.9)
    parked = restored.regions[0]
    assert parked.query is not None and float(parked.query.vector[0]) == pytest.approx(0.2)
    assert (parked.shown, parked.offset) == ({"P001"}, 6)
    assert restored.regions[1].query is None  # the shown garment's state is the session's own, kept once

    old = json.loads(session_codec.dumps(session))
    del old["regions"], old["region"]  # text a bot from before this change stored
    loaded = session_codec.loads(json.dumps(old), Session)
    assert (loaded.regions, loaded.region, loaded.show_region("top")) == ([], "", False)


async def test_garments_and_where_each_stood_outlive_a_restart(lasting_store, recommender) -> None:
    def serving() -> Conversation:
        sessions = Sessions(10, store=lasting_store, fingerprint=recommender.fingerprint)
        return Conversation(recommender, sessions, album_size=6, max_results=30)

    before = serving()
    await before.photo(7, outfit_photo())
    await before.press(7, "region:shoes")
    await before.text(7, "for men")
    after = serving()  # a redeploy
    shoes = page(await after.more(7))
    assert shoes.reply.text.startswith("👟 Shoes — Matches 7–12 (filter: men).")
    top = page(await after.press(7, "region:top"))
    assert top.reply.text.startswith("👕 Top — Matches 7–12.") and "filter" not in top.reply.text


async def test_an_old_stored_session_goes_on_after_the_upgrade(lasting_store, recommender) -> None:
    """A session stored before garments existed (no ``regions``): /more and refinements go on as they did."""
    recommender.regions = None
    sessions = Sessions(10, store=lasting_store, fingerprint=recommender.fingerprint)
    old = Conversation(recommender, sessions, album_size=6, max_results=30)
    await old.photo(7, jpeg("red"))
    stored = json.loads(await lasting_store.load(7))
    del stored["regions"], stored["region"]
    await lasting_store.save(7, json.dumps(stored))
    more = page(await old.more(7))
    assert more.reply.text.startswith("Matches 7–12.") and region_row(more) == []
    assert page(await old.text(7, "for women")).reply.text.startswith("Matches 1–6 (filter: women).")


def _query(value: float) -> Query:
    return Query(np.full(3, value, dtype=np.float32), fingerprint="fake-colours-1")
