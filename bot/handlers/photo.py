"""Photos and image files are searched; stickers, GIFs and other media get a pointer to what works."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from .. import conversation, incoming, replies
from ..services import Turn


async def on_image(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    image = incoming.image_file(update.effective_message)
    await conversation.search_photo(Turn.of(update, context), image)


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(replies.unsupported(update.effective_message))
