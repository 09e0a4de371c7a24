"""Per-user conversation state — last photo, what was shown, filters — bounded in size and expiring."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from index import Filters, SearchHit
from recommender import Query, Style

from .limits import Limits, UserGate

K = TypeVar("K")
V = TypeVar("V")

Search = Callable[[Query, int, int, Filters | None], Awaitable[list[SearchHit]]]


class ExpiringLRU(Generic[K, V]):
    """A map that holds at most ``max_size`` entries, dropping the least recently used first, and
    forgets an entry ``ttl_s`` after it was last used (``None``: never)."""

    def __init__(self, max_size: int, ttl_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size, self.ttl_s, self._clock = max_size, ttl_s, clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            return None
        self[key] = entry[1]  # a use refreshes both recency and expiry
        return entry[1]

    def get_or_create(self, key: K, factory: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = self[key] = factory()
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        return entry[1] if entry else None

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def _expire(self) -> None:
        """Entries are kept in order of last use, so the expired ones are all at the front."""
        if self.ttl_s is None:
            return
        deadline = self._clock() - self.ttl_s
        while self._entries:
            used, _ = next(iter(self._entries.values()))
            if used > deadline:
                break
            self._entries.popitem(last=False)


@dataclass
class Session:
    """One user's conversation: filters outlive photos; the rest belongs to the last photo."""

    filters: Filters = field(default_factory=Filters)
    query: Query | None = None
    style: Style | None = None
    shown: set[str] = field(default_factory=set)  # product ids already sent for this query
    offset: int = 0  # where the next search under ``filters`` starts
    exhausted: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    gate: UserGate = field(default_factory=lambda: UserGate(Limits()), repr=False)

    def start(self, query: Query) -> None:
        self.query, self.style, self.shown = query, None, set()
        self.offset, self.exhausted = 0, False

    def narrow(self, filters: Filters) -> None:
        """New filters rank the same query afresh; what was already shown stays skipped."""
        if filters != self.filters:
            self.filters, self.offset, self.exhausted = filters, 0, False

    async def next_page(self, search: Search, size: int, limit: int) -> list[SearchHit]:
        """The next ``size`` best products not shown yet (fewer at the end, none once exhausted);
        at most ``limit`` products per query in all."""
        page: list[SearchHit] = []
        while self.query is not None and not self.exhausted and len(page) < size:
            wanted = min(size - len(page), limit - len(self.shown))
            if wanted <= 0:
                self.exhausted = True
                break
            # One more than wanted: whether anything is left shows now, not on an empty next page.
            hits = await search(self.query, wanted + 1, self.offset, self.filters or None)
            self.exhausted = len(hits) <= wanted
            hits = hits[:wanted]
            self.offset += len(hits)
            for hit in hits:
                if hit.product.id not in self.shown:
                    self.shown.add(hit.product.id)
                    page.append(hit)
        if len(self.shown) >= limit:
            self.exhausted = True
        return page


class Sessions(ExpiringLRU[int, Session]):
    """Sessions by user id (a Telegram or Discord id; the adapter decides), each with the user's limits."""

    def __init__(self, max_size: int, ttl_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 limits: Limits | None = None) -> None:
        super().__init__(max_size, ttl_s, clock)
        self.limits = limits or Limits()

    def of(self, user_id: int) -> Session:
        return self.get_or_create(user_id, lambda: Session(gate=UserGate(self.limits, self._clock)))
