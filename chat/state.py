"""Per-user conversation state — last photo, what was shown, filters — kept in a session store (bounded and
expiring; in SQLite or Redis it outlives restarts), changed one user's turn at a time."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from index import Filters, SearchHit
from recommender import Query, Style
from recommender.protocol import Region

from . import pricing, session_codec
from .limits import Limits, LocalRates, Rates, UserGate
from .lru import ExpiringLRU
from .session_store import MemorySessionStore, SessionStore

__all__ = ["ExpiringLRU", "Session", "Sessions"]

Search = Callable[[Query, int, int, Filters | None], Awaitable[list[SearchHit]]]
SIMILARITY, PRICE = "similarity", "price"  # the orders results come in
PAGES_KEPT = 8  # pages a user can still rate


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
class RegionState:
    """One garment of the last photo (a :class:`recommender.protocol.Region`) and where its results stand: each
    region pages, refines and is styled on its own. Parked here while another region is shown; the shown one's
    state lives in the session's own fields (this entry then keeps only its name and box)."""

    name: str
    box: tuple[int, int, int, int]
    query: Query | None = None
    style: Style | None = None
    shown: set[str] = field(default_factory=set)
    offset: int = 0
    exhausted: bool = False
    filters: Filters = field(default_factory=Filters)
    sort: str = SIMILARITY
    relaxation: Filters | None = None
    currency: str | None = None
    page_prices: list[float] = field(default_factory=list)


# The session fields each region has its own of: RegionState's, but its name and box.
_PER_REGION = tuple(f.name for f in dataclasses.fields(RegionState) if f.name not in ("name", "box"))


@dataclass
class Session:
    """One user's conversation: filters and order outlive photos; the rest belongs to the last photo.

    Plain data only (see ``chat.session_codec``): every field is stored and restored as it is, so a new field
    persists with no code of its own. What lives outside the session (locks, rate limits) is in ``UserGate``.
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
    # Pages made for this user so far: numbers them, for rating and so that a chat shows them in order.
    pages_shown: int = 0
    relaxation: Filters | None = None  # what "show the nearest" would search with, after an empty page
    photo_outdated: bool = False  # the last photo's query was dropped: the model changed since (see ``outdate``)
    # The garments of the last photo, most prominent first, when it showed a person (empty for one that did not);
    # ``region`` names the one shown, whose state is the fields above.
    regions: list[RegionState] = field(default_factory=list)
    region: str = ""

    def start(self, query: Query, photo: str | None = None, regions: Sequence[Region] = ()) -> None:
        """A new photo (or a shared product): ``query`` is shown first, the first of ``regions`` when there are
        several garments (each starts under the filters and order the session has now)."""
        self.query, self.style, self.shown, self.photo = query, None, set(), photo
        self.offset, self.exhausted, self.photo_outdated = 0, False, False
        garments = [] if [r.name for r in regions] in ([], ["whole"]) else list(regions)
        self.regions = [RegionState(r.name, r.box) if i == 0 else
                        RegionState(r.name, r.box, r.query, filters=self.filters, sort=self.sort,
                                    currency=self.currency)
                        for i, r in enumerate(garments)]
        self.region = garments[0].name if garments else ""

    def show_region(self, name: str) -> bool:
        """Show another garment of the last photo, where its results stood (the shown one is parked);
        False when the last photo has none of that name."""
        target = next((r for r in self.regions if r.name == name), None)
        if target is None:
            return False
        if name != self.region:
            shown = next(r for r in self.regions if r.name == self.region)
            for attribute in _PER_REGION:
                setattr(shown, attribute, getattr(self, attribute))
                setattr(self, attribute, getattr(target, attribute))
            self.regions[self.regions.index(target)] = RegionState(target.name, target.box)
            self.region = name
        return True

    def refine_every_region(self) -> None:
        """The shown region's filters and order for the others too: a photo's caption refines all its garments."""
        for parked in self.regions:
            parked.filters, parked.sort = self.filters, self.sort

    def region_names(self) -> list[str]:
        return [r.name for r in self.regions]

    def outdate(self) -> None:
        """The model changed since the last photo: its vector lives in another space, and the photo itself is
        not kept to embed it again, so the query goes (and what came of it); filters, language and pages to rate
        stay. ``photo_outdated`` tells the user why until they send a new photo."""
        self.query, self.style, self.relaxation = None, None, None
        self.shown, self.offset, self.exhausted, self.photo_outdated = set(), 0, False, True
        self.regions, self.region = [], ""

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
        photo = f"{self.photo or ''}#{self.region}" if self.region else self.photo or ""  # whose garment was rated
        record = PageRecord(self.pages_shown, photo, tuple(hit.product.id for hit in hits),
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
    """A product's most specific type: its category in the heads' vocabulary, whatever the shop calls it, else
    the last part of its own type ('Footwear > Shoes > Heels' → 'Heels')."""
    return hit.product.label("category") or (hit.product.product_type or "").split(">")[-1].strip()


class Sessions:
    """Sessions by user id (a Telegram or Discord id; the adapter decides) in a store, and each user's limits.

    Change a session only inside ``async with sessions.edit(user_id) as session``: it is loaded under the
    user's lock (across processes with Redis) and saved when the block ends without an error.

    ``fingerprint`` is the serving engine's: a session whose query another engine made (a stored session after a
    model change) loses that query when it is loaded. ``rates`` count the users' photo and tap rates (shared by
    every worker where they are Redis's).
    """

    def __init__(self, max_size: int, ttl_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 limits: Limits | None = None, store: SessionStore | None = None, *, rates: Rates | None = None,
                 fingerprint: str | None = None) -> None:
        self.store = store or MemorySessionStore(max_size, ttl_s, clock)
        self.limits, self._clock, self.fingerprint = limits or Limits(), clock, fingerprint
        self.rates = rates or LocalRates(clock=clock)
        self._gates: ExpiringLRU[int, UserGate] = ExpiringLRU(max_size, ttl_s, clock)

    def gate(self, user_id: int) -> UserGate:
        """The user's limits (photo in flight and bursts in this process; rates in ``rates``)."""
        return self._gates.get_or_create(user_id, lambda: UserGate(self.limits, self._clock, user_id, self.rates))

    async def get(self, user_id: int) -> Session | None:
        """The user's session as stored now, to read (changes to it are not kept)."""
        text = await self.store.load(user_id)
        if text is None:
            return None
        session = session_codec.loads(text, Session)
        if session.query is not None and self.fingerprint is not None and session.query.fingerprint != self.fingerprint:
            session.outdate()  # another engine's vector: searching with it would rank nonsense plausibly
        return session

    @contextlib.asynccontextmanager
    async def edit(self, user_id: int) -> AsyncIterator[Session]:
        async with self.store.lock(user_id):
            session = await self.get(user_id) or Session()
            yield session
            await self.store.save(user_id, session_codec.dumps(session))
