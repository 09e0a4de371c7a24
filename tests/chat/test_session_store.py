"""Sessions kept as text: every field round-trips, and each store bounds, expires and serialises changes."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from chat import Conversation, Page, Reply, UserError, session_codec
from chat.page_order import LocalPageOrder, RedisPageOrder
from chat.redis_sessions import RedisSessionStore
from chat.session_store import MemorySessionStore, SessionStore, SqliteSessionStore
from chat.state import PRICE, PageRecord, Session, Sessions
from engine.attributes import Attributes
from index import Filters
from recommender import Guess, Query, Style
from tests.auxil.fakes import FakeRecommender, ManualClock, jpeg, make_catalog

REFINED = Filters(gender="women", color="navy blue", max_price=2000.0, currency="INR",
                  excluded=(("product_type", "sandals"), ("brand", "acme")))


def full_session() -> Session:
    vector = np.random.default_rng(0).standard_normal(1280).astype(np.float32)
    return Session(
        filters=REFINED,
        query=Query(vector, Attributes({"colour": {"Red": 0.7, "Blue": 0.3}, "gender": {"Women": 1.0}}), "a1b2c3"),
        style=Style(Guess("Tshirts", 0.81), None, Guess("Women", 1.0), None),
        shown={"P003", "P001"}, offset=12, exhausted=True, language="ru", sort=PRICE, photo="ab12cd34",
        currency="INR", page_prices=[499.0, 1299.5],
        pages=[PageRecord(3, "ab12cd34", ("P001", "P003"), ("Tshirts", "Heels"), REFINED, PRICE)],
        pages_shown=3, relaxation=Filters(gender="women"))


def test_a_session_round_trips_every_field_including_the_query_vector() -> None:
    session = full_session()
    restored = session_codec.loads(session_codec.dumps(session), Session)
    assert restored.query is not None and restored.query.vector.dtype == np.float32
    assert np.array_equal(restored.query.vector, session.query.vector)
    restored.query.vector[0] = 1.0  # writable, as the engine's arrays are
    assert (restored.filters, restored.style, restored.shown, restored.offset, restored.exhausted,
            restored.pages_shown) == (session.filters, session.style, {"P001", "P003"}, 12, True, 3)
    assert restored.query.attributes == session.query.attributes
    assert restored.query.fingerprint == "a1b2c3"  # the engine that embedded it, so a model change is noticed
    # The conversation's refinements, order and pages to rate too; exclusions come back as tuples, so the
    # filters are equal and hashable again (the index caches matches by them).
    assert (restored.language, restored.sort, restored.photo, restored.currency, restored.page_prices,
            restored.pages, restored.relaxation) == ("ru", PRICE, "ab12cd34", "INR", [499.0, 1299.5], session.pages,
                                                      Filters(gender="women"))
    assert restored.filters.excluded == REFINED.excluded and hash(restored.pages[0].filters) == hash(REFINED)


class Order(enum.Enum):
    BEST = "best"
    CHEAPEST = "cheapest"


@dataclass
class Later:
    """A session as a later version might have it: fields more, others gone."""

    offset: int = 0
    price_cap: float | None = None
    excluded: list[str] = field(default_factory=list)
    order: Order = Order.BEST


def test_new_fields_persist_without_code_and_old_text_loads_with_defaults() -> None:
    later = Later(offset=3, price_cap=49, excluded=["socks"], order=Order.CHEAPEST)
    assert session_codec.loads(session_codec.dumps(later), Later) == Later(3, 49.0, ["socks"], Order.CHEAPEST)
    older_text = session_codec.dumps(Session(offset=5))
    assert session_codec.loads(older_text, Later) == Later(offset=5)  # unknown fields ignored
    assert session_codec.loads('{"offset": 2}', Session) == Session(offset=2)  # missing ones take defaults
    with pytest.raises(TypeError, match="cannot store a Lock"):
        session_codec.dumps({"lock": asyncio.Lock()})


async def test_sqlite_sessions_outlive_the_store_and_are_bounded_and_expiring(tmp_path: Path) -> None:
    clock = ManualClock(1_000_000.0)
    path = tmp_path / "sessions.sqlite"
    store = SqliteSessionStore(path, "telegram", max_users=2, ttl_s=60, clock=clock)
    for user in (1, 2):
        await store.save(user, f"s{user}")
    clock.now += 30
    assert await store.load(1) == "s1"  # used: now 2 is the least recently used, and 1's minute restarts
    await store.save(3, "s3")
    assert [await store.load(user) for user in (1, 2, 3)] == ["s1", None, "s3"]
    await store.aclose()

    reopened = SqliteSessionStore(path, "telegram", max_users=2, ttl_s=60, clock=clock)
    other_door = SqliteSessionStore(path, "discord", max_users=2, ttl_s=60, clock=clock)
    assert await reopened.load(3) == "s3" and await other_door.load(3) is None
    clock.now += 61
    assert await reopened.load(3) is None
    await reopened.aclose()
    await other_door.aclose()


async def test_memory_sessions_forget_the_least_recently_used_first() -> None:
    store = MemorySessionStore(max_users=1)
    await store.save(1, "a")
    await store.save(2, "b")
    assert (await store.load(1), await store.load(2)) == (None, "b")


async def test_redis_sessions_are_shared_bounded_and_expiring(redis) -> None:
    one, two = RedisSessionStore(redis, "telegram", 2, ttl_s=60), RedisSessionStore(redis, "telegram", 2, ttl_s=60)
    await one.save(1, "s1")
    assert await two.load(1) == "s1"  # another process's store sees it
    await two.save(2, "s2")
    await one.save(3, "s3")
    assert [await one.load(user) for user in (1, 2, 3)] == [None, "s2", "s3"]
    assert 0 < await redis.ttl("fashionbot:telegram:session:3") <= 60
    assert await RedisSessionStore(redis, "discord", 2).load(3) is None


async def two_workers_bump_one_session(workers: list[Sessions]) -> int:
    async def bump(sessions: Sessions) -> None:
        async with sessions.edit(7) as session:
            seen = session.offset
            await asyncio.sleep(0.02)  # a search in between
            session.offset = seen + 1

    await asyncio.gather(*(bump(workers[n % 2]) for n in range(10)))
    return (await workers[0].get(7)).offset


async def test_two_changes_to_one_session_at_once_are_made_one_after_the_other() -> None:
    shared = MemorySessionStore(10)
    assert await two_workers_bump_one_session([Sessions(10, store=shared), Sessions(10, store=shared)]) == 10


async def test_two_processes_change_one_session_one_after_the_other_through_redis(redis) -> None:
    workers = [Sessions(10, store=RedisSessionStore(redis, "telegram", 10)) for _ in range(2)]
    assert await two_workers_bump_one_session(workers) == 10


async def shown_in_order(orders: list) -> list[int]:
    shown: list[int] = []

    async def show(number: int, delay: float) -> None:
        async with orders[number % 2].turn(7, number):
            await asyncio.sleep(delay)
            shown.append(number)

    async with orders[1].turn(7, 1):  # page 1 starts first, then 3 and 2 are made while it is sent
        later = [asyncio.create_task(show(3, 0.0)), asyncio.create_task(show(2, 0.1))]
        await asyncio.sleep(0.1)
        shown.append(1)
    await asyncio.gather(*later)
    return shown


async def test_pages_are_shown_in_the_order_they_were_made() -> None:
    order = LocalPageOrder()
    assert await shown_in_order([order, order]) == [1, 2, 3]


async def test_pages_made_by_two_processes_are_shown_in_order_through_redis(redis) -> None:
    assert await shown_in_order([RedisPageOrder(redis, "telegram"), RedisPageOrder(redis, "telegram")]) == [1, 2, 3]


async def test_a_page_whose_predecessor_never_finishes_waits_only_so_long() -> None:
    order = LocalPageOrder(wait_limit_s=0.1)
    async with order.turn(7, 5):
        pass
    async with order.turn(7, 7):  # page 6 was lost with a crashed process
        pass


async def pages_of_a_new_session_go_at_once(order) -> None:
    async with order.turn(7, 4):
        pass
    async with asyncio.timeout(1):  # the session expired and began again: page 1 does not wait for page 0 …
        async with order.turn(7, 1):
            pass
        async with order.turn(7, 2):  # … nor its page 2 for anything but page 1
            pass


async def test_a_session_that_began_again_is_not_held_back_by_its_old_pages() -> None:
    await pages_of_a_new_session_go_at_once(LocalPageOrder(wait_limit_s=5))


async def test_a_session_that_began_again_is_not_held_back_through_redis(redis) -> None:
    await pages_of_a_new_session_go_at_once(RedisPageOrder(redis, "telegram", wait_limit_s=5))


class Searches(FakeRecommender):
    """Counts the queries it searched with, by the engine fingerprint they carry."""

    def __init__(self, products, fingerprint: str) -> None:
        super().__init__(products, fingerprint=fingerprint)
        self.searched: list[str | None] = []

    async def search(self, query: Query, k: int, offset: int = 0, filters: Filters | None = None) -> list:
        self.searched.append(query.fingerprint)
        return await super().search(query, k, offset, filters)


def serving(recommender: FakeRecommender, store: SessionStore) -> Conversation:
    """A bot process as deployed: its sessions know the engine they serve."""
    sessions = Sessions(10, store=store, fingerprint=recommender.fingerprint)
    return Conversation(recommender, sessions, album_size=4, max_results=20)


async def test_after_a_model_change_a_stored_session_does_not_search_with_the_old_vector(
        lasting_store: SessionStore, tmp_path: Path) -> None:
    products = make_catalog(tmp_path / "catalog")
    before = serving(Searches(products, "head-v1"), lasting_store)
    await before.photo(7, jpeg("red"), language="ru")
    await before.style(7, "women")
    # A redeploy with a retrained head of the same width: the stored vector would fit the index, wrongly.
    retrained = Searches(products, "head-v2")
    after = serving(retrained, lasting_store)
    with pytest.raises(UserError, match="Пришлите фото ещё раз"):  # a clear reply, in the user's language
        await after.more(7)
    assert retrained.searched == []
    session = await after.sessions.get(7)
    assert session.query is None and session.photo_outdated
    assert (session.language, session.filters) == ("ru", Filters(gender="women"))  # the rest of the session stays
    with pytest.raises(UserError, match="Пришлите фото ещё раз"):  # a More button from before the redeploy too
        await after.press(7, "more")
    assert isinstance(await after.style(7, ""), Reply)  # /style: nothing recognised now, no search
    assert retrained.searched == []

    await after.photo(7, jpeg("blue"))  # the photo again: a fresh query of the new model, and /more goes on
    assert isinstance(await after.more(7), Page)
    assert set(retrained.searched) == {"head-v2"} and not (await after.sessions.get(7)).photo_outdated


async def test_a_stored_session_of_the_same_model_goes_on_after_a_redeploy(
        lasting_store: SessionStore, tmp_path: Path) -> None:
    products = make_catalog(tmp_path / "catalog")
    await serving(Searches(products, "head-v1"), lasting_store).photo(7, jpeg("red"))
    again = Searches(products, "head-v1")
    assert isinstance(await serving(again, lasting_store).more(7), Page) and set(again.searched) == {"head-v1"}
