"""The one broad except: a failed update is logged (with its traceback when the fault is ours) and the
user gets a friendly reply."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from chat import UserError
from chat.i18n import language
from chat.replies import SOMETHING_WENT_WRONG, image_problem
from engine import ImageDecodeError

from .context import Context

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """PTB's error handler for every update and every ``Application.create_task``."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    lang = language(user.language_code if user else None)
    if isinstance(error, UserError):  # already in the user's language
        log.info("update %s: told the user: %s", update_id, error)
        reply = str(error)
    elif isinstance(error, ImageDecodeError):
        log.info("update %s: told the user: %s", update_id, error)
        reply = image_problem(lang, error)
    elif isinstance(error, Forbidden):
        log.warning("update %s: the user has blocked the bot (%s)", update_id, error)
        return
    else:
        log.error("update %s failed", update_id, exc_info=error)
        reply = lang._(SOMETHING_WENT_WRONG)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is not None:
        try:
            await context.bot.send_message(chat.id, reply)
        except TelegramError as failure:
            log.warning("could not tell chat %s what went wrong: %s", chat.id, failure)
