"""Limits per user: one photo in flight, the newest of a burst answered, photo, tap and admin rates bounded — once
for all workers where they share Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chat import Conversation, Page, Rebuilds, Reply, Sessions, UserError
from chat.limits import Limits, LocalRates, Rates, RedisRates, SlidingWindow, UserGate
from chat.redis_sessions import RedisSessionStore
from chat.replies import BURST_NOTE, TAPS_TOO_FAST
from tests.auxil.fakes import FakeRecommender, ManualClock, jpeg, make_catalog


def test_a_sliding_window_allows_its_limit_then_frees_up_as_time_passes() -> None:
    clock = ManualClock()
    window = SlidingWindow(2, 60.0, clock)
    assert [window.allow(), window.allow(), window.allow()] == [True, True, False]
    clock.now += 30
    assert not window.allow() and window.wait_s() == pytest.approx(30.0)
    clock.now += 30
    assert window.allow()
    assert all(SlidingWindow(0, 1.0, clock).allow() for _ in range(1000))  # 0: no limit


async def test_taps_beyond_the_rate_are_refused_once_aloud_then_silently() -> None:
    clock = ManualClock()
    gate = UserGate(Limits(taps_per_second=2), clock)
    assert [await gate.tap() for _ in range(4)] == [True, True, False, None]
    clock.now += 1.01
    assert await gate.tap() is True


@pytest.fixture
def recommender(tmp_path: Path) -> FakeRecommender:
    return FakeRecommender(make_catalog(tmp_path / "catalog"), photo_delay_s=0.05)


def conversation(recommender: FakeRecommender, limits: Limits | None = None) -> Conversation:
    return Conversation(recommender, Sessions(100, limits=limits), album_size=4, max_results=20)


async def test_a_burst_gets_one_album_for_the_newest_photo_and_one_note(recommender: FakeRecommender) -> None:
    talk = conversation(recommender)
    downloads: list[str] = []

    def photo(colour: str):
        async def download() -> bytes:
            downloads.append(colour)
            return jpeg(colour)
        return download

    colours = ["red", "blue", "green", "white", "black", "yellow", "red", "blue", "green", "white"]
    outcomes = await asyncio.gather(*(talk.photo(7, photo(colour)) for colour in colours))
    pages = [outcome for outcome in outcomes if isinstance(outcome, Page)]
    notes = [outcome for outcome in outcomes if isinstance(outcome, Reply)]
    assert len(pages) == 1 and notes == [Reply(BURST_NOTE)] and outcomes.count(None) == 8
    assert isinstance(outcomes[-1], Page)  # the newest one is answered
    assert downloads == ["red", "white"]  # the first was already in flight; the rest were never downloaded
    # The burst is over: the next photo is answered as usual.
    assert isinstance(await talk.photo(7, jpeg("red")), Page)


async def test_a_user_flooding_photos_does_not_delay_another_user(recommender: FakeRecommender) -> None:
    recommender.photo_delay_s = 0.2
    talk = conversation(recommender)
    flood = [asyncio.create_task(talk.photo(1, jpeg("red"))) for _ in range(10)]
    started = asyncio.get_running_loop().time()
    assert isinstance(await talk.photo(2, jpeg("blue")), Page)
    assert asyncio.get_running_loop().time() - started < 0.35  # one forward pass, not behind ten
    await asyncio.gather(*flood)


async def test_photos_beyond_the_per_minute_rate_are_refused_with_the_wait(recommender: FakeRecommender) -> None:
    talk = conversation(recommender, Limits(photos_per_minute=2))
    for _ in range(2):
        assert isinstance(await talk.photo(3, jpeg("red")), Page)
    with pytest.raises(UserError, match=r"please wait (59|60) s"):
        await talk.photo(3, jpeg("red"))
    assert isinstance(await talk.photo(4, jpeg("red")), Page)  # someone else is not affected


async def test_taps_beyond_the_rate_get_one_friendly_reply(recommender: FakeRecommender) -> None:
    talk = conversation(recommender, Limits(taps_per_second=2))
    await talk.photo(5, jpeg("red"))
    outcomes = [await talk.press(5, "style") for _ in range(4)]
    assert [type(o) for o in outcomes[:2]] == [Reply, Reply] and outcomes[2:] == [Reply(TAPS_TOO_FAST), None]
    assert isinstance(await talk.press(6, "style"), Reply)


class Board:
    def __init__(self) -> None:
        self.posted: list[str] = []

    async def post(self, text: str) -> None:
        self.posted.append(text)

    async def edit(self, text: str) -> None:
        self.posted.append(text)


async def test_admin_commands_are_rate_limited_and_each_one_is_audited(
        recommender: FakeRecommender, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chat.audit")
    rebuilds = Rebuilds(recommender, tmp_path / "catalog" / "catalog.csv", 0.1, commands_per_minute=2)
    board = Board()
    await rebuilds.command(board, user_id=500, allowed=True, args=["status"])
    await rebuilds.command(board, user_id=9, allowed=False, args=[])
    await rebuilds.command(board, user_id=500, allowed=True, args=["status"])
    await rebuilds.command(board, user_id=500, allowed=True, args=[])
    assert board.posted[-1].startswith("Too many admin commands in a row; try again in")
    lines = [record.getMessage() for record in caplog.records if record.name == "chat.audit"]
    assert [line.split(" outcome=")[1] for line in lines] == [
        "shown", "refused: not an admin", "shown", "refused: rate limit"]
    assert all(line.startswith("admin action: user=") and " at=20" in line for line in lines)


@pytest.fixture(params=["in-process", "redis"])
async def rates(request: pytest.FixtureRequest) -> AsyncIterator[Rates]:
    """Each place the windows are counted: this process, or Redis (a real redis-server, on its own clock)."""
    if request.param == "in-process":
        yield LocalRates()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    await client.flushall()
    yield RedisRates(client, "telegram")
    await client.aclose()


async def test_a_window_allows_its_limit_then_says_how_long_to_wait_and_frees_up(rates: Rates) -> None:
    assert [await rates.take("photos:1", 2, 60.0) for _ in range(2)] == [0.0, 0.0]
    assert 59.0 < await rates.take("photos:1", 2, 60.0) <= 60.0
    assert await rates.take("photos:2", 2, 60.0) == 0.0  # another user's window
    assert await rates.take("taps:1", 1, 0.3) == 0.0
    assert 0 < await rates.take("taps:1", 1, 0.3) <= 0.3  # refused: not counted, so it frees up in time
    await asyncio.sleep(0.35)
    assert await rates.take("taps:1", 1, 0.3) == 0.0


def shared_worker(redis: Redis, recommender: FakeRecommender, limits: Limits) -> Conversation:
    """One bot process's conversation, with sessions and limits in the Redis every worker uses."""
    sessions = Sessions(100, limits=limits, store=RedisSessionStore(redis, "telegram", 100),
                        rates=RedisRates(redis, "telegram"))
    return Conversation(recommender, sessions, album_size=4, max_results=20)


async def test_two_workers_sharing_redis_allow_a_user_the_photo_rate_once_not_twice(
        recommender: FakeRecommender, redis: Redis) -> None:
    workers = [shared_worker(redis, recommender, Limits(photos_per_minute=2)) for _ in range(2)]
    assert isinstance(await workers[0].photo(3, jpeg("red")), Page)
    assert isinstance(await workers[1].photo(3, jpeg("blue")), Page)
    for worker in workers:  # the user's next photo is refused whichever worker it reaches
        with pytest.raises(UserError, match=r"please wait (59|60) s"):
            await worker.photo(3, jpeg("red"))
    assert isinstance(await workers[1].photo(4, jpeg("red")), Page)  # someone else is not affected


async def test_two_workers_sharing_redis_allow_a_user_the_tap_rate_once_not_twice(
        recommender: FakeRecommender, redis: Redis) -> None:
    workers = [shared_worker(redis, recommender, Limits(taps_per_second=2)) for _ in range(2)]
    await workers[0].photo(5, jpeg("red"))
    outcomes = [await workers[n % 2].press(5, "style") for n in range(4)]
    assert [type(o) for o in outcomes[:2]] == [Reply, Reply] and outcomes[2:] == [Reply(TAPS_TOO_FAST)] * 2


async def test_two_workers_sharing_redis_allow_an_admin_the_command_rate_once_not_twice(
        recommender: FakeRecommender, tmp_path: Path, redis: Redis) -> None:
    feed = tmp_path / "catalog" / "catalog.csv"
    workers = [Rebuilds(recommender, feed, 0.1, commands_per_minute=2, rates=RedisRates(redis, "telegram"))
               for _ in range(2)]
    board = Board()
    for n in range(3):
        await workers[n % 2].command(board, user_id=500, allowed=True, args=["status"])
    assert board.posted[-1].startswith("Too many admin commands in a row; try again in")
    assert not any(text.startswith("Too many") for text in board.posted[:2])
