"""Per-user state: bounded, expiring, and paging that never repeats a product."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import Product
from chat.state import ExpiringLRU, Session, Sessions
from index import Filters, SearchHit
from recommender import Query
from tests.auxil.fakes import ManualClock


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    cache: ExpiringLRU[str, int] = ExpiringLRU(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache["c"] = 3
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_entries_expire_after_the_ttl_since_last_use() -> None:
    clock = ManualClock()
    cache: ExpiringLRU[str, int] = ExpiringLRU(10, ttl_s=60, clock=clock)
    cache["a"], cache["b"] = 1, 2
    clock.now = 50
    assert cache.get("a") == 1  # used: its minute starts again
    clock.now = 100
    assert (cache.get("a"), cache.get("b"), len(cache)) == (1, None, 1)
    clock.now = 161
    assert len(cache) == 0


async def test_sizes_are_validated_and_sessions_are_created_on_first_change() -> None:
    with pytest.raises(ValueError, match="max_size must be at least 1, got 0"):
        ExpiringLRU(0)
    sessions = Sessions(3, ttl_s=None)
    assert sessions.gate(7) is sessions.gate(7) and await sessions.get(8) is None
    async with sessions.edit(8) as session:
        session.offset = 4
    assert (await sessions.get(8)).offset == 4


PRODUCTS = [Product(id=f"p{i}", title=f"t{i}", link=f"https://s/{i}", image_link=f"/i/{i}.jpg",
                    gender="women" if i % 2 else "men") for i in range(20)]
QUERY = Query(np.zeros(3, dtype=np.float32))


async def search(query: Query, k: int, offset: int, filters: Filters | None) -> list[SearchHit]:
    ranked = [p for p in PRODUCTS if not filters or p.gender == filters.gender]
    return [SearchHit(p, 1.0, rank) for rank, p in enumerate(ranked[offset:offset + k], offset)]


def ids(hits: list[SearchHit]) -> list[str]:
    return [hit.product.id for hit in hits]


async def test_pages_follow_each_other_and_the_last_one_is_known_as_last() -> None:
    session = Session()
    session.start(QUERY)
    pages = [ids(await session.next_page(search, 6, 100)) for _ in range(4)]
    assert pages == [[f"p{i}" for i in range(n, min(n + 6, 20))] for n in (0, 6, 12, 18)]
    assert session.exhausted and await session.next_page(search, 6, 100) == []


async def test_a_new_filter_ranks_afresh_but_never_repeats_what_was_shown() -> None:
    session = Session()
    session.start(QUERY)
    assert ids(await session.next_page(search, 4, 100)) == ["p0", "p1", "p2", "p3"]
    session.narrow(Filters(gender="women"))
    assert ids(await session.next_page(search, 4, 100)) == ["p5", "p7", "p9", "p11"]  # p1, p3 were shown


async def test_filters_outlive_a_new_photo_and_the_limit_caps_a_query() -> None:
    session = Session(filters=Filters(gender="men"))
    session.start(QUERY)
    assert ids(await session.next_page(search, 6, 8)) == ["p0", "p2", "p4", "p6", "p8", "p10"]
    assert ids(await session.next_page(search, 6, 8)) == ["p12", "p14"]
    assert session.exhausted
    session.start(QUERY)
    assert session.filters == Filters(gender="men") and not session.exhausted and session.shown == set()
