"""Per-user conversation state — last photo, what was shown, filters — kept in a session store (bounded and
expiring; in SQLite or Redis it outlives restarts), changed one user's turn at a time."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from index import Filters, SearchHit
from recommender import Query, Style

from . import session_codec
from .limits import Limits, UserGate
from .lru import ExpiringLRU
from .session_store import MemorySessionStore, SessionStore

__all__ = ["ExpiringLRU", "Session", "Sessions"]

Search = Callable[[Query, int, int, Filters | None], Awaitable[list[SearchHit]]]


@dataclass
class Session:
    """One user's conversation: filters outlive photos; the rest belongs to the last photo.

    Plain data only (see ``chat.session_codec``): every field is stored and restored as it is, so a new field
    persists with no code of its own. What lives only in this process (locks, rate limits) is in ``UserGate``.
    """

    filters: Filters = field(default_factory=Filters)
    query: Query | None = None
    style: Style | None = None
    shown: set[str] = field(default_factory=set)  # product ids already sent for this query
    offset: int = 0  # where the next search under ``filters`` starts
    exhausted: bool = False
    pages: int = 0  # pages made for this user so far: numbers them, so that a chat shows them in order

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


class Sessions:
    """Sessions by user id (a Telegram or Discord id; the adapter decides) in a store, and each user's limits.

    Change a session only inside ``async with sessions.edit(user_id) as session``: it is loaded under the
    user's lock (across processes with Redis) and saved when the block ends without an error.
    """

    def __init__(self, max_size: int, ttl_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 limits: Limits | None = None, store: SessionStore | None = None) -> None:
        self.store = store or MemorySessionStore(max_size, ttl_s, clock)
        self.limits, self._clock = limits or Limits(), clock
        self._gates: ExpiringLRU[int, UserGate] = ExpiringLRU(max_size, ttl_s, clock)

    def gate(self, user_id: int) -> UserGate:
        """The user's limits in this process (photo in flight, bursts, rates)."""
        return self._gates.get_or_create(user_id, lambda: UserGate(self.limits, self._clock))

    async def get(self, user_id: int) -> Session | None:
        """The user's session as stored now, to read (changes to it are not kept)."""
        text = await self.store.load(user_id)
        return None if text is None else session_codec.loads(text, Session)

    @contextlib.asynccontextmanager
    async def edit(self, user_id: int) -> AsyncIterator[Session]:
        async with self.store.lock(user_id):
            session = await self.get(user_id) or Session()
            yield session
            await self.store.save(user_id, session_codec.dumps(session))
