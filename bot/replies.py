"""Telegram's side of rendering: the core's buttons as inline keyboards, and replies to Telegram media."""

from __future__ import annotations

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message

from fashionbot.chat.render import COMMANDS as CORE_COMMANDS
from fashionbot.chat.render import Rows

COMMANDS = [BotCommand(name, description) for name, description in CORE_COMMANDS]
STICKER = "That's a sticker — I can only search with photos. Send me a photo of clothing or shoes."
ANIMATION = "GIFs and videos can't be searched — send me a still photo of the item."
OTHER_MEDIA = "Send me a photo of clothing or shoes and I'll find similar products. /help tells more."


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """Link buttons become URL buttons, actions become callback_data (the core keeps them ≤ 64 bytes)."""
    markup = [[InlineKeyboardButton(b.label, url=b.url) if b.url else
               InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(markup) if markup else None


def too_big(size_bytes: int, limit_bytes: int) -> str:
    return (f"That file is {size_bytes / 2**20:.1f} MB; bots can only download files up to "
            f"{limit_bytes // 2**20} MB. Please send a smaller image, or send it as a photo.")


def unsupported(message: Message) -> str:
    """The reply to a message that holds nothing to search with."""
    if message.sticker:
        return STICKER
    if message.animation or message.video or message.video_note:
        return ANIMATION
    return OTHER_MEDIA
