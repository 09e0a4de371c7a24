"""Flood control: sends paced per chat and overall, every retry_after honoured, nothing lost, pages in order."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.telegram.app import build_application
from bot.telegram.pacing import (
    FOLLOWS_UP,
    GROUP_CHAT,
    OVERALL,
    PREPAID,
    PRIVATE_CHAT,
    LocalPace,
    Pace,
    PacedRateLimiter,
    Rate,
    RedisPace,
    Turn,
    chat_rate,
    hold_back,
    message_cost,
    overall_rate,
    reserve,
)
from bot.telegram.settings import BotSettings
from recommender.settings import RecommenderSettings
from tests.auxil.application import running
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


@pytest.mark.parametrize("rate", [PRIVATE_CHAT, GROUP_CHAT, OVERALL], ids=["private", "group", "overall"])
@pytest.mark.parametrize("retry_after", [1.0, 2.0, 3.0, 30.0])
@pytest.mark.parametrize("tat", [0.0, 100.0, 104.0, 150.0], ids=["quiet", "just-used", "in-a-burst", "queued"])
def test_after_a_hold_back_nothing_goes_before_it_ends_then_only_the_sustained_rate(rate, retry_after, tat) -> None:
    now = 100.0
    until = now + retry_after
    held_tat = hold_back(tat, until, rate)
    later = now + 0.2
    for cost in (1, 2, 6):  # whatever was reserved before, no message of any size goes during the hold
        assert later + reserve(held_tat, later, cost, rate, until)[1] >= until - 1e-9
    assert reserve(held_tat, later, 0, rate, until) == (held_tat, pytest.approx(until - later))  # prepaid too
    after = max(until, tat - (rate.burst - 1) * rate.interval_s)  # the first one goes when the hold ends …
    first_tat, first_wait = reserve(held_tat, until, 1, rate, until)
    assert until + first_wait == pytest.approx(after)
    _, second_wait = reserve(first_tat, until, 1, rate, until)  # … and the next one an interval later: no burst
    assert until + second_wait == pytest.approx(after + rate.interval_s)


def test_a_hold_back_keeps_a_later_hold_and_a_longer_queue() -> None:
    assert hold_back(500.0, 110.0, PRIVATE_CHAT) == 500.0
    assert hold_back(0.0, 110.0, PRIVATE_CHAT) == pytest.approx(119.0)  # one message at 110, the burst spent


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


@pytest.fixture(params=["in-process", "redis"])
async def pace(request: pytest.FixtureRequest) -> AsyncIterator[Pace]:
    """Each back end of the budgets: this process's, or Redis's (a real redis-server, on its own clock)."""
    if request.param == "in-process":
        yield LocalPace()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    await client.flushall()
    yield RedisPace(client)
    await client.aclose()


async def test_a_held_back_chat_sends_nothing_until_retry_after_has_passed(pace: Pace) -> None:
    assert await pace.reserve("chat:1", 7, PRIVATE_CHAT) == (0.0, True)  # an album and its links, at once
    await pace.hold_back("chat:1", 2.0, PRIVATE_CHAT)  # Telegram: retry after 2 s
    message, prepaid = await pace.reserve("chat:1", 1, PRIVATE_CHAT), await pace.reserve("chat:1", 0, PRIVATE_CHAT)
    assert message.wait == pytest.approx(2.0, abs=0.05) and not message.quiet  # though 3 of the burst were left
    assert prepaid.wait == pytest.approx(2.0, abs=0.05)  # a links message reserved with its album waits too
    assert (await pace.reserve("chat:1", 1, PRIVATE_CHAT)).wait == pytest.approx(3.0, abs=0.05)  # then 1 a second
    assert await pace.reserve("chat:2", 1, PRIVATE_CHAT) == (0.0, True)  # other chats are not held back
    await pace.hold_back("all", 1.0, OVERALL)
    assert (await pace.reserve("all", 1, OVERALL)).wait == pytest.approx(1.0, abs=0.05)


async def test_a_hold_back_ends_when_retry_after_has_passed(pace: Pace) -> None:
    await pace.hold_back("chat:3", 0.3, PRIVATE_CHAT)
    await asyncio.sleep(0.35)
    assert (await pace.reserve("chat:3", 1, PRIVATE_CHAT)).wait == pytest.approx(0.0, abs=0.05)


async def test_workers_draw_on_one_budget_through_redis(redis) -> None:
    workers = [RedisPace(redis), RedisPace(redis)]
    waits = [(await workers[n % 2].reserve("chat:7", 6, PRIVATE_CHAT)).wait for n in range(3)]
    assert waits[0] == 0.0 and waits[1] == pytest.approx(2.0, abs=0.1) and waits[2] == pytest.approx(8.0, abs=0.1)
    await workers[0].hold_back("chat:8", 3.0, PRIVATE_CHAT)  # one worker was told to wait: the other waits too
    assert (await workers[1].reserve("chat:8", 0, PRIVATE_CHAT)).wait == pytest.approx(3.0, abs=0.1)
    assert 0 < await redis.pttl("fashionbot:telegram:pace:chat:8:held") <= 4000


class RecordingPace(LocalPace):
    def __init__(self) -> None:
        super().__init__()
        self.held: list[str] = []

    async def hold_back(self, key: str, seconds: float, rate: Rate) -> None:
        self.held.append(key)
        await super().hold_back(key, seconds, rate)


@pytest.mark.parametrize(("busy", "held"), [(False, ["chat:7", "all"]), (True, ["chat:7"])],
                         ids=["quiet-chat", "busy-chat"])
async def test_a_refusal_in_a_quiet_chat_holds_back_every_chat(busy: bool, held: list[str]) -> None:
    attempts: list[float] = []

    async def send() -> str:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(dt.timedelta(seconds=0.3))
        return "sent"

    pace = RecordingPace()
    limiter = PacedRateLimiter(pace=pace)
    if busy:  # the chat had just had an album: the refusal may be its own limit
        await pace.reserve("chat:7", 7, PRIVATE_CHAT)
    sending = asyncio.create_task(
        limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 7, "text": "x"}, None))
    await asyncio.sleep(0.1)  # held back now
    other_chat = [await pace.reserve("chat:8", 1, PRIVATE_CHAT), await pace.reserve("all", 1, limiter.overall)]
    assert (max(turn.wait for turn in other_chat) > 0.1) == (not busy)  # another chat waits only for the bot's hold
    assert await sending == "sent"
    assert pace.held == held and attempts[1] - attempts[0] >= 0.29


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

    async def spy(key: str, cost: int, rate: Rate) -> Turn:
        turn = await pace_reserve(key, cost, rate)
        if key.startswith("chat:"):
            waits.append((cost, turn.wait))
        return turn

    async def sent() -> bool:
        return True

    limiter.pace.reserve = spy
    album = {"chat_id": 7, "media": [1, 2, 3, 4, 5, 6]}
    await limiter.process_request(sent, (), {}, "sendMediaGroup", album, FOLLOWS_UP)
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 7, "text": "links"}, PREPAID)
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 7, "text": "note"}, None)
    assert waits == [(7, 0.0), (0, 0.0), (1, 0.0)]  # the links cost nothing more; the note pays for itself


@pytest.fixture(params=["in-process", "redis"])
async def any_pace_bot(request: pytest.FixtureRequest, settings: BotSettings,
                       recommender_settings: RecommenderSettings, recommender: FakeRecommender) -> AsyncIterator[None]:
    """The real bot with its flood budgets in this process, or in Redis (a real redis-server)."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        async with Redis.from_url(url) as client:
            await client.flushall()
        recommender_settings = recommender_settings.model_copy(update={"redis_url": SecretStr(url)})

    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        return recommender

    async with running(build_application(settings, recommender_settings, open_recommender=open_fake)):
        yield


@pytest.mark.usefixtures("any_pace_bot")
async def test_under_a_short_retry_after_nothing_goes_to_the_chat_until_it_has_passed(api: BotApiEmulator) -> None:
    # Telegram stricter than the bot's pacing: the album goes, its links message is refused for 1-2 s.
    api.flood_control = FloodControl(per_chat=3, chat_window_s=2.0)
    api.send_photo(ANN, jpeg("red"))
    [refusal] = await api.wait_for("sendMessage", ok=False, chat_id=ANN.id)
    retry_after = refusal.response["parameters"]["retry_after"]
    assert 1 <= retry_after <= 2
    api.send_text(ANN, "/help")  # its answer is ready at once, with most of the chat's burst unused
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Send me a photo of clothing"))

    assert api.flood_control.refused == 1 and api.flood_control.refused_while_held == 0
    sent_after = [call for call in api.calls if call.params.get("chat_id") == ANN.id and call.at > refusal.at
                  and call.method.lower() in {"sendmessage", "sendmediagroup", "sendphoto"}]
    assert len(sent_after) == 2 and all(call.ok for call in sent_after)  # the links, again, and the help
    assert min(call.at for call in sent_after) >= refusal.at + retry_after - 0.05
