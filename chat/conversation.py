"""What the assistant does for one user, on any platform: search with a photo, refine the results in plain
words, page with /more, narrow with /style, rate a page, open a shared link. Each call returns what to show (a
:class:`Page` or a :class:`Reply`) in the user's language; adapters show it.

``language`` (a client's code: Telegram's language_code, Discord's locale) is remembered with the session by
every call that changes it, so a message that carries none is answered in the language last seen.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine import ImageDecodeError
from index import Filters
from recommender import Query, Recommender
from recommender.closeness import nothing_close
from recommender.protocol import Region

from . import answers, i18n, narrowing, pricing, refine, replies, sharing
from .errors import UserError
from .feedback import FeedbackStore, Rating
from .i18n import Language
from .replies import AlbumItem, Page, Reply
from .state import PRICE, SIMILARITY, Session, Sessions

Download = Callable[[], Awaitable[bytes]]
INLINE_RESULTS = 20  # product cards offered in inline mode


class Conversation:
    """Per-user sessions over one open :class:`Recommender`; ratings go to ``feedback`` (none: no 👍/👎)."""

    def __init__(self, recommender: Recommender, sessions: Sessions, *, album_size: int, max_results: int,
                 feedback: FeedbackStore | None = None, examples: Path | None = None) -> None:
        self.recommender, self.sessions = recommender, sessions
        self.album_size, self.max_results = album_size, max_results
        self.feedback, self.examples_dir = feedback, examples

    async def language(self, user_id: int, language: str | None = None) -> Language:
        """The language to answer this user in: the client's, else the one remembered with their session."""
        if language:
            return i18n.language(language)
        session = await self.sessions.get(user_id)
        return i18n.language(session.language if session is not None else None)

    async def has_photo(self, user_id: int) -> bool:
        session = await self.sessions.get(user_id)
        return session is not None and session.query is not None

    async def photo(self, user_id: int, image: bytes | Download, *, language: str | None = None,
                    words: str = "") -> Page | Reply | None:
        """A new search with the user's newest photo; ``image`` is its bytes, or how to download them; ``words``
        (a caption) refine it at once. A photo of a person is searched per garment worn: the most prominent first,
        with buttons to switch to the others (see :meth:`region`).

        One photo per user is searched at a time; the next waits, not yet downloaded. Of a burst (ten
        photos forwarded at once) only the newest is answered and the rest get one note between them.
        A bad image or too many photos a minute raise a UserError (its text is the reply).
        """
        gate = self.sessions.gate(user_id)
        turn = gate.photo_arrived()  # before any await: arrivals are ordered as they came
        lang = await self.language(user_id, language)
        async with gate.in_flight:
            if not turn.latest:
                return Reply(lang._(replies.BURST_NOTE)) if turn.first_skipped() else None
            if not await gate.photos.allow():
                raise UserError(replies.photos_too_fast(lang, gate.photos.wait_s()))
            data = image if isinstance(image, bytes) else await image()
            try:
                regions = await self.recommender.photo_regions(data)
            except ImageDecodeError as error:
                raise UserError(replies.image_problem(lang, error)) from error
        if not turn.latest:  # a newer photo arrived while this one was embedded: that one is answered
            return Reply(lang._(replies.BURST_NOTE)) if turn.first_skipped() else None
        gate.burst_answered()
        refinement = refine.parse(words, await self._vocabulary(lang)) if words.strip() else None
        return await self._page(user_id, language=language, new_query=regions[0].query, regions=regions,
                                photo=hashlib.sha256(data).hexdigest()[:16], refinement=refinement or None)

    async def region(self, user_id: int, name: str, *, language: str | None = None) -> Page | Reply:
        """Another garment of the last photo (top, bottom, full, shoes, bag): its next page — its first the first
        time, then on from where its results stood; refinements, /more and /style then apply to it."""
        return await self._page(user_id, language=language, region=name)

    async def text(self, user_id: int, words: str, *, language: str | None = None) -> Page | Reply:
        """Plain words after a photo: "in red", "under 2000", "no sandals", "start over" … (see chat.refine);
        before any photo they are kept for the first one."""
        lang = await self.language(user_id, language)
        refinement = refine.parse(words, await self._vocabulary(lang))
        if not refinement:
            return Reply(answers.not_understood(lang, refinement.unknown))
        return await self._page(user_id, language=language, refinement=refinement)

    async def more(self, user_id: int, *, language: str | None = None) -> Page | Reply:
        session = await self.sessions.get(user_id)
        if session is None or session.query is None:
            outdated = session is not None and session.photo_outdated  # the model changed since that photo
            raise UserError((await self.language(user_id, language))._(
                replies.PHOTO_OUTDATED if outdated else replies.NO_PHOTO_YET))
        return await self._page(user_id, language=language)

    async def style(self, user_id: int, words: str, *, language: str | None = None) -> Reply:
        """Without words: what was recognised, with buttons to narrow; with words: narrow (or clear)."""
        async with self.sessions.edit(user_id) as session:
            lang = _speak(session, language)
            if words.strip():
                session.narrow(narrowing.narrow(session.filters, words))
                has_photo = session.query is not None
                return Reply(replies.narrowed_text(lang, session.filters, has_photo=has_photo),
                             replies.more_buttons(lang) if has_photo else [])
            if session.query is not None and session.style is None:
                session.style = await self.recommender.style(session.query)
            return Reply(replies.style_text(lang, session.style, session.filters, session.region),
                         replies.style_buttons(lang, session.style, session.filters))

    async def press(self, user_id: int, action: str, *, language: str | None = None) -> Page | Reply | None:
        """A button's action: More, Style, a narrowing, 👍/👎, an example photo, the nearest relaxation, start
        over; None for an unknown one, and for taps beyond the user's rate after the one reply that says so."""
        allowed = await self.sessions.gate(user_id).tap()
        if allowed is None:
            return None
        if not allowed:
            return Reply((await self.language(user_id, language))._(replies.TAPS_TOO_FAST))
        if action == replies.MORE:
            return await self.more(user_id, language=language)
        if action == replies.STYLE:
            return await self.style(user_id, "", language=language)
        if action.startswith(replies.STYLE_PREFIX):
            return await self.style(user_id, action.removeprefix(replies.STYLE_PREFIX), language=language)
        if action.startswith(replies.REGION_PREFIX):
            return await self.region(user_id, action.removeprefix(replies.REGION_PREFIX), language=language)
        if action.startswith(replies.RATE_PREFIX):
            return await self._rate(user_id, language, action.removeprefix(replies.RATE_PREFIX))
        if action.startswith(replies.EXAMPLE_PREFIX):
            return await self.example(user_id, action.removeprefix(replies.EXAMPLE_PREFIX), language=language)
        if action == replies.START_OVER:
            return await self._page(user_id, language=language, refinement=refine.Refinement(reset=True))
        if action == replies.RELAX:
            session = await self.sessions.get(user_id)
            if session is not None and session.relaxation is not None:
                return await self._page(user_id, language=language, relaxed=session.relaxation)
        return None

    async def start(self, user_id: int, payload: str = "", *, language: str | None = None) -> Page | Reply:
        """/start: a shared product or collection when the link carried one, else the welcome with examples."""
        lang = await self.language(user_id, language)
        shared = sharing.parse(payload) if payload else None
        if shared is None:
            return await self.welcome(lang)
        if shared.kind == "product":
            query = await self.recommender.product_query(shared.value)
            photo, header, filters = f"product:{shared.value}", answers.shared_product(lang), Filters()
        else:
            query = await self.recommender.collection_query(shared.value)
            photo, header = f"collection:{shared.value}", answers.shared_collection(lang, shared.value)
            filters = Filters(collection=shared.value)
        if query is None:
            return Reply(answers.not_shared(lang))
        return await self._page(user_id, language=language, new_query=query, photo=photo, relaxed=filters,
                                header=header)

    async def welcome(self, lang: Language) -> Page | Reply:
        """Two lines and the example photos, each with a button that searches with it."""
        paths = await asyncio.to_thread(answers.examples, self.examples_dir)
        if not paths:
            return Reply(lang._(replies.HELP))
        reply = Reply(lang._(replies.WELCOME), answers.example_buttons(paths))
        return Page(answers.example_album(paths), reply)

    async def example(self, user_id: int, name: str, *, language: str | None = None) -> Page | Reply | None:
        paths = {path.name: path for path in await asyncio.to_thread(answers.examples, self.examples_dir)}
        if name not in paths:
            return None
        return await self.photo(user_id, await asyncio.to_thread(paths[name].read_bytes), language=language)

    async def help(self, language: str | None = None, user_id: int | None = None) -> Reply:
        lang = await self.language(user_id, language) if user_id is not None else i18n.language(language)
        return Reply(lang._(replies.HELP))

    @staticmethod
    def commands(language: str | None) -> list[tuple[str, str]]:
        """The command menu in a language (Telegram's setMyCommands per language_code)."""
        lang = i18n.language(language)
        return [(name, lang._(description)) for name, description in replies.COMMANDS]

    async def inline(self, user_id: int, words: str = "", *, language: str | None = None) -> list[AlbumItem]:
        """Product cards to share (inline mode): the user's current results, refined by ``words`` if any."""
        session = await self.sessions.get(user_id)  # only read: inline mode changes no results
        if session is None or session.query is None:
            return []
        lang = i18n.language(language or session.language)
        filters, sort = session.filters, session.sort
        refinement = refine.parse(words, await self._vocabulary(lang)) if words.strip() else None
        if refinement:
            filters = refine.refined(filters, refinement, session.currency)
            sort = refinement.sort or sort
        hits = await self.recommender.search(session.query, INLINE_RESULTS, 0, filters or None)
        if sort == PRICE:
            hits = pricing.by_price(hits, filters.currency or pricing.main_currency(hits))
        return replies.album(hits, 1)

    # ---- inside ------------------------------------------------------------------------------------------------
    async def _vocabulary(self, lang: Language) -> refine.Vocabulary:
        return refine.vocabulary(lang, await self.recommender.labels())

    async def _apply(self, session: Session, lang: Language, refinement: refine.Refinement) -> Applied:
        """Refine the session's filters and order with all of ``refinement`` that can be applied, and say what
        could not: "cheaper" with no price to go below (a catalog without prices) while "in black" applies."""
        labels = await self.recommender.labels()
        currency = session.currency or (labels.currencies[0] if labels.currencies else None)
        filters = refine.refined(session.filters, refinement, currency)
        unmet = ""
        if refinement.cheaper:
            # Only below what this photo's results showed: a new photo's caption has seen none of them yet.
            cap = pricing.cheaper_cap(session.page_prices, session.filters.max_price) if session.shown else None
            if cap is None:
                unmet = answers.nothing_cheaper(lang, shown=bool(session.shown), priced=bool(session.page_prices))
                if not replace(refinement, cheaper=False):  # "cheaper" alone: the results stay as they were
                    return Applied(changed=False, unmet=unmet)
            else:
                filters = replace(filters, max_price=cap, currency=session.currency)
        session.refine(filters, refinement.sort or (SIMILARITY if refinement.reset else session.sort))
        return Applied(changed=True, unmet=unmet)

    async def _rate(self, user_id: int, language: str | None, vote: str) -> Reply | None:
        verdict, _, number = vote.partition(":")
        if self.feedback is None or verdict not in ("up", "down"):
            return None
        session = await self.sessions.get(user_id)  # a rating changes nothing in the session
        record = session.page(int(number)) if session is not None and number.isdigit() else None
        lang = i18n.language(language or (session.language if session is not None else None))
        if record is None:
            return Reply(answers.too_old_to_rate(lang))
        kept = await self.feedback.add(Rating.of(user_id, record, liked=verdict == "up", language=lang.code))
        return Reply(answers.rated(lang, liked=verdict == "up", kept=kept))

    async def _page(self, user_id: int, *, language: str | None = None, new_query: Query | None = None,
                    regions: Sequence[Region] = (), photo: str | None = None,
                    refinement: refine.Refinement | None = None, relaxed: Filters | None = None,
                    region: str | None = None, header: str = "") -> Page | Reply:
        """The next page; with ``refinement`` (or ``relaxed``: filters to start over with) the first one again;
        with ``region``, that garment's next page. Words before any photo only change the filters, kept for the
        first photo."""
        async with self.sessions.edit(user_id) as session:  # two /more at once must not page from one offset
            lang = _speak(session, language)
            if new_query is not None:
                session.start(new_query, photo, regions)
            elif region is not None and not session.show_region(region):
                return Reply(lang._(replies.PHOTO_OUTDATED if session.photo_outdated else replies.REGION_GONE))
            elif session.query is None and refinement is not None:
                applied = await self._apply(session, lang, refinement)
                if not applied.changed:
                    return Reply(applied.unmet)
                noted = answers.refined_before_photo(lang, session.filters, session.sort)
                return Reply(answers.unmet_first(applied.unmet, noted))
            if relaxed is not None:
                session.refine(relaxed, session.sort)
            applied = await self._apply(session, lang, refinement) if refinement is not None else Applied()
            if new_query is not None:
                session.refine_every_region()  # a caption is about the whole photo
            if not applied.changed and new_query is None and relaxed is None:  # a new photo is answered anyway
                return Reply(applied.unmet)
            header = answers.unmet_first(applied.unmet, header)
            first = len(session.shown) + 1
            hits = await session.next_page(self.recommender.search, self.album_size, self.max_results)
            more_left, filters, sort = not session.exhausted, session.filters, session.sort
            record = session.remember(hits, first) if hits else None
            if not hits and first == 1 and filters:
                session.relaxation = await self._nearest(session)
            switch = replies.region_buttons(lang, session.region_names(), session.region)
            heading = replies.region_heading(lang, session.region)
        if not hits and first == 1 and filters:
            return Reply(heading + header + answers.nothing_matches(lang, filters, sort, session.relaxation),
                         answers.relax_buttons(lang, session.relaxation) + ([switch] if switch else []))
        if record is None:
            return Reply(heading + replies.no_more_text(lang, filters, first_page=first == 1),
                         [switch] if switch else [])
        note = answers.unknown_note(lang, refinement.unknown) if refinement is not None else ""
        if new_query is not None and nothing_close(hits, self.recommender.min_similarity):
            header = answers.nothing_close(lang) + header  # the nearest are offered, not presented as matches
        text = heading + header + replies.results_text(lang, first, len(hits), filters, more=more_left, sort=sort)
        rated = record.number if self.feedback is not None else None
        return Page(replies.album(hits, first),
                    Reply(text + note, replies.results_buttons(lang, hits, first, more=more_left, page=rated,
                                                               regions=switch)),
                    number=record.number)

    async def _nearest(self, session: Session) -> Filters | None:
        """The smallest change to the filters that finds something: a higher price cap (the cheapest that
        exists), then without a price floor, an exclusion, a brand, colour, type, usage or gender."""
        assert session.query is not None
        for candidate in refine.relaxations(session.filters):
            hits = await self.recommender.search(session.query, self.max_results, 0, candidate or None)
            if not hits:
                continue
            if candidate.max_price is None and session.filters.max_price is not None:
                currency = session.filters.currency
                cheapest = [hit for hit in pricing.by_price(hits, currency) if hit.product.price_amount is not None
                            and (currency is None or hit.product.price_currency == currency)]
                if cheapest:
                    return replace(candidate, max_price=cheapest[0].product.price_amount, currency=currency)
            return candidate
        return None


@dataclass(frozen=True)
class Applied:
    """What applying a refinement did: whether the results change, and what it could not do (a text)."""

    changed: bool = True
    unmet: str = ""


def _speak(session: Session, language: str | None) -> Language:
    """The session's language, first set to the client's when it told one (remembered once the session is saved:
    a later message that carries none is answered in it)."""
    if language:
        session.language = i18n.pick(language)
    return i18n.language(session.language)
