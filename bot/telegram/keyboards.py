"""The core's buttons as Telegram inline keyboards, and its commands as Telegram's command menu."""

from __future__ import annotations

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from chat import Conversation
from chat.i18n import SOURCE_LANGUAGE, languages
from chat.replies import Rows


def command_menus() -> list[tuple[list[BotCommand], str | None]]:
    """The command menu in each language, with its language_code (None: everyone else's, in English)."""
    return [([BotCommand(name, description) for name, description in Conversation.commands(code)],
             None if code == SOURCE_LANGUAGE else code) for code in languages()]


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """Link buttons become URL buttons, actions become callback_data (the core keeps them ≤ 64 bytes)."""
    markup = [[InlineKeyboardButton(b.label, url=b.url) if b.url else
               InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(markup) if markup else None
