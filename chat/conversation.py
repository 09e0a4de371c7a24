"""What the assistant does for one user, on any platform: search with a photo, page with /more, narrow
with /style. Each call returns what to show (a :class:`Page` or a :class:`Reply`); adapters show it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from recommender import Query, Recommender

from . import narrowing, replies
from .errors import UserError
from .replies import Page, Reply
from .state import Sessions

Download = Callable[[], Awaitable[bytes]]


class Conversation:
    """Per-user sessions over one open :class:`Recommender`."""

    def __init__(self, recommender: Recommender, sessions: Sessions, *, album_size: int, max_results: int) -> None:
        self.recommender, self.sessions = recommender, sessions
        self.album_size, self.max_results = album_size, max_results

    async def has_photo(self, user_id: int) -> bool:
        session = await self.sessions.get(user_id)
        return session is not None and session.query is not None

    async def photo(self, user_id: int, image: bytes | Download) -> Page | Reply | None:
        """A new search with the user's newest photo; ``image`` is its bytes, or how to download them.

        One photo per user is searched at a time; the next waits, not yet downloaded. Of a burst (ten
        photos forwarded at once) only the newest is answered and the rest get one note between them.
        A bad image raises engine.ImageDecodeError, too many photos a minute a UserError (both told).
        """
        gate = self.sessions.gate(user_id)
        turn = gate.photo_arrived()
        async with gate.in_flight:
            if not turn.latest:
                return Reply(replies.BURST_NOTE) if turn.first_skipped() else None
            if not gate.photos.allow():
                raise UserError(replies.photos_too_fast(gate.photos.wait_s()))
            query = await self.recommender.photo(image if isinstance(image, bytes) else await image())
        if not turn.latest:  # a newer photo arrived while this one was embedded: that one is answered
            return Reply(replies.BURST_NOTE) if turn.first_skipped() else None
        gate.burst_answered()
        return await self._page(user_id, new_query=query)

    async def more(self, user_id: int) -> Page | Reply:
        if not await self.has_photo(user_id):
            raise UserError(replies.NO_PHOTO_YET)
        return await self._page(user_id)

    async def style(self, user_id: int, words: str) -> Reply:
        """Without words: what was recognised, with buttons to narrow; with words: narrow (or clear)."""
        async with self.sessions.edit(user_id) as session:
            if words.strip():
                session.narrow(narrowing.narrow(session.filters, words))
                has_photo = session.query is not None
                return Reply(replies.narrowed_text(session.filters, has_photo=has_photo),
                             replies.more_buttons() if has_photo else [])
            if session.query is not None and session.style is None:
                session.style = await self.recommender.style(session.query)
            return Reply(replies.style_text(session.style, session.filters),
                         replies.style_buttons(session.style, session.filters))

    async def press(self, user_id: int, action: str) -> Page | Reply | None:
        """A button's action: More, Style, or one of the /style narrowings; None for an unknown one, and for
        taps beyond the user's rate after the one reply that says so."""
        allowed = self.sessions.gate(user_id).tap()
        if not allowed:
            return None if allowed is None else Reply(replies.TAPS_TOO_FAST)
        if action == replies.MORE:
            return await self.more(user_id)
        if action == replies.STYLE:
            return await self.style(user_id, "")
        if action.startswith(replies.STYLE_PREFIX):
            return await self.style(user_id, action.removeprefix(replies.STYLE_PREFIX))
        return None

    async def _page(self, user_id: int, new_query: Query | None = None) -> Page | Reply:
        async with self.sessions.edit(user_id) as session:  # two /more at once must not page from one offset
            if new_query is not None:
                session.start(new_query)
            first = len(session.shown) + 1
            hits = await session.next_page(self.recommender.search, self.album_size, self.max_results)
            more_left, filters = not session.exhausted, session.filters
            if hits:
                session.pages += 1
            number = session.pages
        if not hits:
            return Reply(replies.no_more_text(filters, first_page=first == 1))
        return Page(replies.album(hits, first),
                    Reply(replies.results_text(first, len(hits), filters, more=more_left),
                          replies.results_buttons(hits, first, more=more_left)), number=number)
