"""The core's buttons as Telegram inline keyboards, and its commands as Telegram's command menu."""

from __future__ import annotations

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from chat.replies import COMMANDS as CORE_COMMANDS
from chat.replies import Rows

COMMANDS = [BotCommand(name, description) for name, description in CORE_COMMANDS]


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """Link buttons become URL buttons, actions become callback_data (the core keeps them ≤ 64 bytes)."""
    markup = [[InlineKeyboardButton(b.label, url=b.url) if b.url else
               InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(markup) if markup else None
