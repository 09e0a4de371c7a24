"""/reindex and /reindex status, for the admins in TELEGRAM_ADMIN_IDS; anyone else is refused."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..services import services


async def on_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    shared = services(context)
    await shared.rebuilds.command(context.application, shared.recommender, update.effective_chat.id,
                                  update.effective_user.id, list(context.args or ()))
