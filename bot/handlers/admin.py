"""/reindex and /reindex status, for the admins in TELEGRAM_ADMIN_IDS; anyone else is refused."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..services import TelegramBoard, services


async def on_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    shared, user_id = services(context), update.effective_user.id
    await shared.rebuilds.command(shared.recommender, TelegramBoard(context.bot, update.effective_chat.id),
                                  user_id=user_id, allowed=user_id in shared.settings.admin_ids,
                                  args=list(context.args or ()), spawn=context.application.create_task)
