"""Telegram handlers: each one picks what the update says, hands it to the conversation core and shows the
outcome. No logic of their own; refusals (``UserError``) and failures go to :mod:`.errors`."""

from __future__ import annotations

import functools

from telegram import Update

from chat.replies import HELP

from . import incoming
from .context import Context


async def on_help(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(HELP)


async def on_image(update: Update, context: Context) -> None:
    image = incoming.image_file(update.effective_message)  # refused before anything is downloaded
    chat = context.chat(update)
    await chat.uploading()
    download = functools.partial(incoming.download, context.bot, image)  # only once it is this photo's turn
    await chat.show(await context.assistant.conversation.photo(update.effective_user.id, download))


async def on_more(update: Update, context: Context) -> None:
    await context.chat(update).show(await context.assistant.conversation.more(update.effective_user.id))


async def on_style(update: Update, context: Context) -> None:
    words = " ".join(context.args or ())
    await context.chat(update).show(await context.assistant.conversation.style(update.effective_user.id, words))


async def on_button(update: Update, context: Context) -> None:
    await update.callback_query.answer()
    action = update.callback_query.data or ""
    await context.chat(update).show(await context.assistant.conversation.press(update.effective_user.id, action))


async def on_reindex(update: Update, context: Context) -> None:
    """/reindex and /reindex status, for the admins in TELEGRAM_ADMIN_IDS; anyone else is refused."""
    user_id, assistant = update.effective_user.id, context.assistant
    await assistant.rebuilds.command(context.chat(update).board(), user_id=user_id,
                                     allowed=user_id in assistant.admin_ids, args=list(context.args or ()),
                                     spawn=context.application.create_task)


async def on_unsupported(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(incoming.unsupported(update.effective_message))
