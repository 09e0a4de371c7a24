"""What handlers share: settings, the recommender, per-user sessions, the file_id cache, rebuilds."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from fashionbot.service import Recommender

from .media import FileIds
from .reindex import Rebuilds
from .settings import BotSettings
from .state import Sessions

KEY = "fashionbot"


@dataclass
class Services:
    settings: BotSettings
    sessions: Sessions
    file_ids: FileIds
    rebuilds: Rebuilds
    opened: Recommender | None = None  # set by post_init, once the model and index are loaded

    @property
    def recommender(self) -> Recommender:
        if self.opened is None:
            raise RuntimeError("the recommender is not open yet")
        return self.opened


def services(context: ContextTypes.DEFAULT_TYPE | Application) -> Services:
    return context.bot_data[KEY]


@dataclass(frozen=True)
class Turn:
    """One update's who and where, with what is needed to answer it."""

    bot: Bot
    services: Services
    chat_id: int
    user_id: int

    @classmethod
    def of(cls, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Turn:
        assert update.effective_chat is not None and update.effective_user is not None
        return cls(context.bot, services(context), update.effective_chat.id, update.effective_user.id)

    async def say(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        await self.bot.send_message(self.chat_id, text, reply_markup=markup)
