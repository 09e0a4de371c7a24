"""Telegram onto the conversation core: a user's photo, /more, /style and buttons, shown in their chat."""

from __future__ import annotations

from fashionbot.chat.render import MORE

from . import incoming
from .services import Turn


async def search_photo(turn: Turn, image: incoming.ImageFile) -> None:
    await turn.uploading()
    await turn.show(await turn.conversation.photo(turn.user_id, await incoming.download(turn.bot, image)))


async def more(turn: Turn) -> None:
    if turn.conversation.has_photo(turn.user_id):
        await turn.uploading()
    await turn.show(await turn.conversation.more(turn.user_id))


async def style(turn: Turn, words: str) -> None:
    await turn.show(await turn.conversation.style(turn.user_id, words))


async def press(turn: Turn, data: str) -> None:
    """An inline button: More, Style, or one of the /style narrowings."""
    if data == MORE:
        await more(turn)
        return
    await turn.show(await turn.conversation.press(turn.user_id, data))
