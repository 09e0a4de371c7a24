"""Flood control: sends paced per chat and overall, every retry_after honoured, nothing lost, pages in order."""

from __future__ import annotations

import logging

import pytest
from telegram.error import RetryAfter

from bot.telegram.pacing import (
    FOLLOWS_UP,
    GROUP_CHAT,
    OVERALL,
    PREPAID,
    PRIVATE_CHAT,
    LocalPace,
    PacedRateLimiter,
    Rate,
    RedisPace,
    chat_rate,
    message_cost,
    overall_rate,
    reserve,
)
from tests.auxil.bot_api_emulator import BotApiEmulator, FloodControl
from tests.auxil.fakes import FakeRecommender, ManualClock, jpeg

from .conftest import ANN, contains


@pytest.mark.parametrize(("tat", "now", "cost", "rate", "expected"), [
    (0.0, 100.0, 6, Rate(1.0, 10), (106.0, 0.0)),  # an album into a quiet chat goes at once
    (106.0, 100.0, 1, Rate(1.0, 10), (107.0, 0.0)),  # its links message too: 7 of a burst of 10
    (107.0, 100.0, 6, Rate(1.0, 10), (113.0, 3.0)),  # the next album waits for the budget to refill
    (113.0, 100.0, 1, Rate(1.0, 10), (114.0, 4.0)),  # and its links a second after it
    (50.0, 100.0, 1, Rate(3.0, 10), (103.0, 0.0)),  # a long-quiet chat starts afresh
    (0.0, 0.0, 12, Rate(1.0, 10), (12.0, 2.0)),  # more than a burst still goes, a little later
])
def test_the_budget_hands_out_waits_in_order(tat, now, cost, rate, expected) -> None:
    new_tat, wait = reserve(tat, now, cost, rate)
    assert (new_tat, wait) == pytest.approx(expected)


@pytest.mark.parametrize(("endpoint", "data", "cost"), [
    ("sendMediaGroup", {"media": [1, 2, 3, 4, 5, 6]}, 6),
    ("sendMessage", {"text": "x"}, 1),
    ("sendPhoto", {}, 1),
    ("editMessageText", {}, 1),
    ("sendChatAction", {}, 0),
    ("answerCallbackQuery", {}, 0),
    ("getFile", {}, 0),
])
def test_an_album_costs_one_message_per_photo_and_chat_actions_nothing(endpoint, data, cost) -> None:
    assert message_cost(endpoint, data) == cost


def test_groups_have_the_stricter_budget() -> None:
    assert (chat_rate(1001), chat_rate(-100123), chat_rate("@shop")) == (PRIVATE_CHAT, GROUP_CHAT, GROUP_CHAT)
    assert overall_rate(30) == OVERALL and overall_rate(1000) == Rate(0.001, 1000)


async def test_a_held_back_chat_waits_out_retry_after_before_its_budget() -> None:
    clock = ManualClock(100.0)
    pace = LocalPace(clock=clock)
    await pace.hold_back("chat:1", 5.0)
    assert await pace.reserve("chat:1", 1, PRIVATE_CHAT) == 0.0  # its tat is at 105: the wait is in the sleep
    clock.now = 105.0
    assert await pace.reserve("chat:1", 1, PRIVATE_CHAT) == pytest.approx(0.0)
    assert await pace.reserve("chat:2", 1, PRIVATE_CHAT) == 0.0  # other chats are not held back


async def test_workers_draw_on_one_budget_through_redis(redis) -> None:
    workers = [RedisPace(redis), RedisPace(redis)]
    waits = [await workers[n % 2].reserve("chat:7", 6, PRIVATE_CHAT) for n in range(3)]
    assert waits[0] == 0.0 and waits[1] == pytest.approx(2.0, abs=0.1) and waits[2] == pytest.approx(8.0, abs=0.1)
    await workers[0].hold_back("chat:8", 3.0)
    assert float(await redis.get("fashionbot:telegram:pace:chat:8")) > 0


async def test_every_retry_after_is_honoured_until_the_message_goes() -> None:
    attempts: list[int] = []

    async def send() -> str:
        attempts.append(1)
        if len(attempts) <= 5:  # more than PTB's AIORateLimiter would ever retry
            raise RetryAfter(0)
        return "sent"

    limiter = PacedRateLimiter()
    assert await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 7, "text": "x"}, None) == "sent"
    assert len(attempts) == 6


async def test_a_message_is_given_up_only_past_the_deadline_and_logged_with_its_chat(
        caplog: pytest.LogCaptureFixture) -> None:
    async def send() -> None:
        raise RetryAfter(30)

    limiter = PacedRateLimiter(deadline_s=5.0)
    with pytest.raises(RetryAfter):
        await limiter.process_request(send, (), {}, "sendMediaGroup", {"chat_id": 4242, "media": [1, 2]}, None)
    [record] = [r for r in caplog.records if r.name == "bot.telegram.pacing"]
    assert record.levelno == logging.ERROR and "sendMediaGroup to chat 4242 given up" in record.getMessage()


@pytest.mark.usefixtures("bot_app")
async def test_under_flood_control_nothing_is_lost_and_two_taps_on_more_give_each_page_once_in_order(
        api: BotApiEmulator, recommender: FakeRecommender) -> None:
    api.flood_control = FloodControl(per_chat=7, chat_window_s=4.0)  # stricter than the bot's own pacing
    recommender.photo_delay_s = 0.2  # the three photos arrive while the first is being looked at
    for colour in ("red", "blue", "green"):
        api.send_photo(ANN, jpeg(colour))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"), timeout=30)
    api.press_button(ANN, "more")
    api.press_button(ANN, "more")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 13–18"), timeout=60)
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("several photos at once"), timeout=30)

    assert api.flood_control.refused > 0  # Telegram said "retry after" …
    refused = api.calls_to("sendMediaGroup", ok=False) + api.calls_to("sendMessage", ok=False)
    assert refused and all(call.status == 429 for call in refused)
    albums = api.calls_to("sendMediaGroup", chat_id=ANN.id)  # … and still each page came once, in order
    assert [call.params["media"][0]["caption"].split(".")[0] for call in albums] == ["1", "7", "13"]
    assert all("green" in item["caption"] for item in albums[0].params["media"][:4])  # the newest photo's
    links = [call for call in api.calls_to("sendMessage", chat_id=ANN.id) if call.params["text"].startswith("Matches")]
    assert [call.params["text"].split(".")[0] for call in links] == ["Matches 1–6", "Matches 7–12", "Matches 13–18"]
    assert albums[0].at < links[0].at < albums[1].at < links[1].at < albums[2].at < links[2].at


async def test_an_album_reserves_its_links_message_so_it_follows_at_once() -> None:
    clock = ManualClock(0.0)
    limiter = PacedRateLimiter(overall_per_s=1000, pace=LocalPace(clock=clock))
    waits: list[tuple[int, float]] = []
    pace_reserve = limiter.pace.reserve

    async def spy(key: str, cost: int, rate: Rate) -> float:
        wait = await pace_reserve(key, cost, rate)
        if key.startswith("chat:"):
            waits.append((cost, wait))
        return wait

    async def sent() -> bool:
        return True

    limiter.pace.reserve = spy
    album = {"chat_id": 7, "media": [1, 2, 3, 4, 5, 6]}
    await limiter.process_request(sent, (), {}, "sendMediaGroup", album, FOLLOWS_UP)
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 7, "text": "links"}, PREPAID)
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 7, "text": "note"}, None)
    assert waits == [(7, 0.0), (1, 0.0)]  # the links cost nothing more; the note pays for itself
