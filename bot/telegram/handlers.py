"""Telegram handlers: each one picks what the update says, hands it to the conversation core and shows the
outcome. No logic of their own; refusals (``UserError``) and failures go to :mod:`.errors`."""

from __future__ import annotations

import functools
from typing import TypeVar

from telegram import Update

from . import incoming, inline
from .context import Context

Part = TypeVar("Part")


def _user(update: Update) -> tuple[int, str | None]:
    """Who sent the update, and the language their client is set to."""
    user = _present(update.effective_user)
    return user.id, user.language_code


def _present(part: Part | None) -> Part:
    """A part of the update PTB types as optional that every handler registered in app.py gets: the message a
    message handler handles, the query a query handler does, and a user (ALLOWED_UPDATES has no channel posts)."""
    assert part is not None
    return part


async def on_start(update: Update, context: Context) -> None:
    """/start, or /start <payload> from a t.me/<bot>?start=… link (a shared product or collection)."""
    user_id, language = _user(update)
    payload = " ".join(context.args or ())
    await context.chat(update).show(await context.assistant.conversation.start(user_id, payload, language=language))


async def on_help(update: Update, context: Context) -> None:
    user_id, language = _user(update)
    await context.chat(update).show(await context.assistant.conversation.help(language, user_id))


async def on_image(update: Update, context: Context) -> None:
    message, (user_id, language) = _present(update.effective_message), _user(update)
    image = incoming.image_file(message, await context.language(update))  # refused before anything is downloaded
    chat = context.chat(update)
    await chat.uploading()
    download = functools.partial(incoming.download, context.bot, image)  # only once it is this photo's turn
    await chat.show(await context.assistant.conversation.photo(user_id, download, language=language,
                                                               words=message.caption or ""))


async def on_text(update: Update, context: Context) -> None:
    """Plain words after a photo refine its results: "in red", "under 2000", "no sandals", "start over"."""
    user_id, language = _user(update)
    words = _present(update.effective_message).text or ""
    await context.chat(update).show(await context.assistant.conversation.text(user_id, words, language=language))


async def on_more(update: Update, context: Context) -> None:
    user_id, language = _user(update)
    await context.chat(update).show(await context.assistant.conversation.more(user_id, language=language))


async def on_style(update: Update, context: Context) -> None:
    (user_id, language), words = _user(update), " ".join(context.args or ())
    await context.chat(update).show(await context.assistant.conversation.style(user_id, words, language=language))


async def on_button(update: Update, context: Context) -> None:
    await _present(update.callback_query).answer()
    (user_id, language), action = _user(update), _present(update.callback_query).data or ""
    await context.chat(update).show(await context.assistant.conversation.press(user_id, action, language=language))


async def on_inline(update: Update, context: Context) -> None:
    """``@bot`` in any chat: cards of the user's current results to share, narrowed by the words typed."""
    query, (user_id, language) = _present(update.inline_query), _user(update)
    items = await context.assistant.conversation.inline(user_id, query.query, language=language)
    await inline.answer(query, items, context.bot.username, context.assistant.file_ids,
                        await context.language(update))


async def on_reindex(update: Update, context: Context) -> None:
    """/reindex and /reindex status, for the admins in TELEGRAM_ADMIN_IDS; anyone else is refused."""
    user_id, assistant = _present(update.effective_user).id, context.assistant
    await assistant.rebuilds.command(context.chat(update).board(), user_id=user_id,
                                     allowed=user_id in assistant.admin_ids, args=list(context.args or ()),
                                     spawn=context.application.create_task)


async def on_unsupported(update: Update, context: Context) -> None:
    text = incoming.unsupported(_present(update.effective_message), await context.language(update))
    await _present(update.effective_message).reply_text(text)
