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

from . import pricing
from .limits import Limits, UserGate

K = TypeVar("K")
V = TypeVar("V")

Search = Callable[[Query, int, int, Filters | None], Awaitable[list[SearchHit]]]
SIMILARITY, PRICE = "similarity", "price"  # the orders results come in
PAGES_KEPT = 8  # pages a user can still rate


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


@dataclass(frozen=True)
class PageRecord:
    """A page as its rating is kept: which photo, which products (and their types), under which filters."""

    number: int
    photo: str
    products: tuple[str, ...]
    categories: tuple[str, ...]
    filters: Filters
    sort: str


@dataclass
class Session:
    """One user's conversation: filters and order outlive photos; the rest belongs to the last photo.

    Everything but ``query``, ``style``, ``lock`` and ``gate`` is plain data (str, numbers, lists, frozen
    dataclasses), so a session can be written down and read back.
    """

    filters: Filters = field(default_factory=Filters)
    query: Query | None = None
    style: Style | None = None
    shown: set[str] = field(default_factory=set)  # product ids already sent for this query
    offset: int = 0  # where the next search under ``filters`` starts
    exhausted: bool = False
    language: str = "en"  # what the user's client says they read (chat.i18n picks the catalog)
    sort: str = SIMILARITY
    photo: str | None = None  # the query's fingerprint: a photo's hash, 'product:<id>', 'collection:<name>'
    currency: str | None = None  # what most prices on the last page were in
    page_prices: list[float] = field(default_factory=list)  # the last page's prices in ``currency``
    pages: list[PageRecord] = field(default_factory=list)  # the last pages shown, to be rated
    pages_shown: int = 0
    relaxation: Filters | None = None  # what "show the nearest" would search with, after an empty page
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    gate: UserGate = field(default_factory=lambda: UserGate(Limits()), repr=False)

    def start(self, query: Query, photo: str | None = None) -> None:
        self.query, self.style, self.shown, self.photo = query, None, set(), photo
        self.offset, self.exhausted = 0, False

    def narrow(self, filters: Filters) -> None:
        """New filters rank the same query afresh; what was already shown stays skipped."""
        if filters != self.filters:
            self.filters, self.offset, self.exhausted = filters, 0, False

    def refine(self, filters: Filters, sort: str) -> None:
        """A refinement in words: the results start over, from the first, under the new filters and order."""
        self.filters, self.sort, self.relaxation = filters, sort, None
        self.shown, self.offset, self.exhausted = set(), 0, False

    def remember(self, hits: list[SearchHit], first: int) -> PageRecord:
        """A page was shown: its prices ("cheaper" goes below them) and a record for rating it."""
        self.currency = pricing.main_currency(hits) or self.currency
        self.page_prices = pricing.amounts(hits, self.currency)
        self.pages_shown += 1
        record = PageRecord(self.pages_shown, self.photo or "", tuple(hit.product.id for hit in hits),
                            tuple(_category(hit) for hit in hits), self.filters, self.sort)
        self.pages = [*self.pages[-(PAGES_KEPT - 1):], record]
        return record

    def page(self, number: int) -> PageRecord | None:
        return next((record for record in self.pages if record.number == number), None)

    async def next_page(self, search: Search, size: int, limit: int) -> list[SearchHit]:
        """The next ``size`` best products not shown yet (fewer at the end, none once exhausted);
        at most ``limit`` products per query in all."""
        if self.sort == PRICE:
            return await self._next_by_price(search, size, limit)
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

    async def _next_by_price(self, search: Search, size: int, limit: int) -> list[SearchHit]:
        """Sorted by price, the results are the ``limit`` most similar products re-ordered, cheapest first."""
        if self.query is None or self.exhausted:
            return []
        pool = await search(self.query, limit, 0, self.filters or None)
        currency = self.filters.currency or pricing.main_currency(pool)
        fresh = [hit for hit in pricing.by_price(pool, currency) if hit.product.id not in self.shown]
        page = fresh[:size]
        self.shown.update(hit.product.id for hit in page)
        self.exhausted = len(fresh) <= size
        return page


def _category(hit: SearchHit) -> str:
    """A product's most specific type: 'Footwear > Shoes > Heels' → 'Heels'."""
    return (hit.product.product_type or "").split(">")[-1].strip()


class Sessions(ExpiringLRU[int, Session]):
    """Sessions by user id (a Telegram or Discord id; the adapter decides), each with the user's limits."""

    def __init__(self, max_size: int, ttl_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 limits: Limits | None = None) -> None:
        super().__init__(max_size, ttl_s, clock)
        self.limits = limits or Limits()

    def of(self, user_id: int) -> Session:
        return self.get_or_create(user_id, lambda: Session(gate=UserGate(self.limits, self._clock)))
