"""/start, /help, /more, /style, inline buttons and plain text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from fashionbot.chat.render import HELP

from .. import conversation
from ..services import Turn


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(HELP)


async def on_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await conversation.more(Turn.of(update, context))


async def on_style(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await conversation.style(Turn.of(update, context), " ".join(context.args or ()))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await conversation.press(Turn.of(update, context), update.callback_query.data or "")
