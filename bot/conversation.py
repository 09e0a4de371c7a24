"""What the bot does for one user: search with a photo, page with /more, narrow with /style."""

from __future__ import annotations

from telegram.constants import ChatAction

from fashionbot.service import Query

from . import incoming, media, narrowing, replies
from .errors import UserError
from .services import Turn


async def search_photo(turn: Turn, image: incoming.ImageFile) -> None:
    await turn.bot.send_chat_action(turn.chat_id, ChatAction.UPLOAD_PHOTO)
    query = await turn.services.recommender.photo(await incoming.download(turn.bot, image))
    await _show_page(turn, new_query=query)


async def more(turn: Turn) -> None:
    session = turn.services.sessions.get(turn.user_id)
    if session is None or session.query is None:
        raise UserError(replies.NO_PHOTO_YET)
    await turn.bot.send_chat_action(turn.chat_id, ChatAction.UPLOAD_PHOTO)
    await _show_page(turn)


async def style(turn: Turn, words: str) -> None:
    """Without words: what was recognised, with buttons to narrow; with words: narrow (or clear)."""
    session = turn.services.sessions.of(turn.user_id)
    if words.strip():
        session.narrow(narrowing.narrow(session.filters, words))
        markup = replies.more_keyboard() if session.query is not None else None
        await turn.say(replies.narrowed_text(session.filters, has_photo=session.query is not None), markup)
        return
    if session.query is not None and session.style is None:
        session.style = await turn.services.recommender.style(session.query)
    await turn.say(replies.style_text(session.style, session.filters),
                   replies.style_keyboard(session.style, session.filters))


async def press(turn: Turn, data: str) -> None:
    """An inline button: More, Style, or one of the /style narrowings."""
    if data == replies.MORE:
        await more(turn)
    elif data == replies.STYLE:
        await style(turn, "")
    elif data.startswith(replies.STYLE_PREFIX):
        await style(turn, data.removeprefix(replies.STYLE_PREFIX))


async def _show_page(turn: Turn, new_query: Query | None = None) -> None:
    """The next page as an album, then one message with the links and the More button."""
    settings, session = turn.services.settings, turn.services.sessions.of(turn.user_id)
    async with session.lock:  # two /more at once must not page from the same offset
        if new_query is not None:
            session.start(new_query)
        first = len(session.shown) + 1
        hits = await session.next_page(turn.services.recommender.search, settings.album_size,
                                       settings.max_results)
        more_left, filters = not session.exhausted, session.filters
    if not hits:
        await turn.say(replies.no_more_text(filters, first_page=first == 1))
        return
    await media.send_album(turn.bot, turn.chat_id, hits, first, turn.services.file_ids)
    await turn.say(replies.results_text(first, len(hits), filters, more=more_left),
                   replies.results_keyboard(hits, first, more=more_left))
