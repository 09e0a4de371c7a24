"""Typed ``context`` for handlers (PTB's ``ContextTypes``): ``context.assistant`` instead of string-keyed
``bot_data``, and ``context.chat(update)`` to answer in."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from chat import Conversation, Rebuilds
from chat.i18n import Language

from .backends import Backends
from .metrics import BotMetrics
from .outgoing import FileIds, TelegramChat


@dataclass(frozen=True)
class Assistant:
    """What every handler shares, built whole by ``post_init`` once the recommender is open."""

    conversation: Conversation
    rebuilds: Rebuilds
    file_ids: FileIds  # product image → Telegram's file_id, shared by every chat
    admin_ids: frozenset[int]
    backends: Backends
    metrics: BotMetrics


class BotData:
    """``application.bot_data``: PTB creates it empty; ``post_init`` sets :attr:`assistant` before the first
    update is handled."""

    assistant: Assistant | None = None


class Context(CallbackContext[ExtBot, dict, dict, BotData]):
    @property
    def assistant(self) -> Assistant:
        return assistant_of(self.application)

    async def language(self, update: Update) -> Language:
        """The user's language, from their client's language_code (else the one remembered with the session)."""
        user = update.effective_user
        assert user is not None  # no channel posts are asked for (app.ALLOWED_UPDATES): every update has a user
        return await self.assistant.conversation.language(user.id, user.language_code)

    def chat(self, update: Update) -> TelegramChat:
        assert update.effective_chat is not None  # every update we handle comes from a chat
        user_id = update.effective_user.id if update.effective_user else update.effective_chat.id
        assistant = self.assistant
        return TelegramChat(self.bot, update.effective_chat.id, assistant.file_ids, user_id=user_id,
                            page_order=assistant.backends.page_order, metrics=assistant.metrics)


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)


def assistant_of(application: Application) -> Assistant:
    assistant = application.bot_data.assistant
    if assistant is None:
        raise RuntimeError("the bot has not started: post_init has not opened the recommender yet")
    return assistant
