"""What handlers share: settings, the conversation core, the file_id cache, rebuilds."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import Application, ContextTypes

from fashionbot.chat import Conversation, Page, Rebuilds, Reply
from fashionbot.service import Recommender

from . import media, replies
from .media import FileIds
from .settings import BotSettings

log = logging.getLogger(__name__)
KEY = "fashionbot"


@dataclass
class Services:
    settings: BotSettings
    conversation: Conversation
    file_ids: FileIds
    rebuilds: Rebuilds

    @property
    def recommender(self) -> Recommender:
        return self.conversation.recommender


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

    @property
    def conversation(self) -> Conversation:
        return self.services.conversation

    async def uploading(self) -> None:
        await self.bot.send_chat_action(self.chat_id, ChatAction.UPLOAD_PHOTO)

    async def show(self, outcome: Page | Reply | None) -> None:
        """A page as one album then its links message; a reply as one message."""
        if isinstance(outcome, Page):
            await media.send_album(self.bot, self.chat_id, outcome.album, self.services.file_ids)
            outcome = outcome.reply
        if outcome is not None:
            await self.bot.send_message(self.chat_id, outcome.text, reply_markup=replies.keyboard(outcome.buttons))


class TelegramBoard:
    """Where a /reindex shows its progress: one message in the admin's chat, edited as it goes."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot, self.chat_id = bot, chat_id
        self.message_id: int | None = None

    async def post(self, text: str) -> None:
        self.message_id = (await self.bot.send_message(self.chat_id, text)).message_id

    async def edit(self, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, self.chat_id, self.message_id)
        except BadRequest as error:  # e.g. the admin deleted the message
            log.info("could not update the reindex message: %s", error.message)
