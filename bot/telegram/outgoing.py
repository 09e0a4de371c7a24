"""What the bot sends into one chat: a page as one album then its links message, a reply as one message,
and a rebuild's progress as one message edited as it goes.

Album photos reuse Telegram's file_ids where known; local images are uploaded, remote ones passed by URL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from telegram import InputMediaPhoto, Message
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ExtBot

from catalog.product import Product
from chat import AlbumItem, ExpiringLRU, Page, Reply
from chat.page_order import PageOrder
from chat.uploads import upload_filename

from .keyboards import keyboard
from .metrics import BotMetrics
from .pacing import FOLLOWS_UP, PREPAID, Paced

log = logging.getLogger(__name__)

FileIds = ExpiringLRU[str, str]  # product image_link → file_id of the photo Telegram made of it
Source = str | bytes  # a file_id or URL, or bytes to upload


class TelegramChat:
    """One chat to answer in, for one update of one user (made as the update's handling starts)."""

    def __init__(self, bot: ExtBot, chat_id: int, file_ids: FileIds, *, user_id: int, page_order: PageOrder,
                 metrics: BotMetrics) -> None:
        self.bot, self.chat_id, self.file_ids = bot, chat_id, file_ids
        self.user_id, self.page_order, self.metrics = user_id, page_order, metrics
        self.started = time.perf_counter()

    async def uploading(self) -> None:
        """Shows "sending photo…" in the chat until the next message arrives (or five seconds pass)."""
        await self.bot.send_chat_action(self.chat_id, ChatAction.UPLOAD_PHOTO)

    async def show(self, outcome: Page | Reply | None) -> None:
        """A page as one album then its links message; a reply as one message; None shows nothing."""
        if isinstance(outcome, Page):
            async with self.page_order.turn(self.user_id, outcome.number):  # the user's pages in order
                await self.uploading()
                await send_album(self.bot, self.chat_id, outcome.album, self.file_ids)
                await self._send(outcome.reply, prepaid=True)  # its place was reserved with the album's
            # A search's first page: its photo is served (the welcome's example album is numbered 0: no search).
            if outcome.number and outcome.album and outcome.album[0].number == 1:
                self.metrics.photo_served(time.perf_counter() - self.started)
        elif outcome is not None:
            await self._send(outcome)

    async def _send(self, reply: Reply, *, prepaid: bool = False) -> None:
        await self.bot.send_message(self.chat_id, reply.text, reply_markup=keyboard(reply.buttons),
                                    rate_limit_args=PREPAID if prepaid else None)

    def board(self) -> ProgressMessage:
        return ProgressMessage(self.bot, self.chat_id)


class ProgressMessage:
    """Where a /reindex shows its progress (a :class:`chat.Board`): one message, edited as it goes."""

    def __init__(self, bot: ExtBot, chat_id: int) -> None:
        self.bot, self.chat_id = bot, chat_id
        self.message_id: int | None = None

    async def post(self, text: str) -> None:
        self.message_id = (await self.bot.send_message(self.chat_id, text)).message_id

    async def edit(self, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, self.chat_id, self.message_id)
        except BadRequest as error:  # e.g. the admin deleted the message
            log.info("could not update the reindex message: %s", error.message)


async def send_album(bot: ExtBot, chat_id: int, items: Sequence[AlbumItem], file_ids: FileIds) -> bool:
    """One album (a lone photo for a page of one); False when Telegram refused it (the links follow anyway)."""
    products = [item.product for item in items]
    captions = [item.caption for item in items]
    cached = [file_ids.get(product.image_link) for product in products]
    # Telegram may have forgotten a cached file_id: then once more, uploading or passing URLs afresh — on the
    # place under flood control that the refused album had reserved (with its links message's).
    attempts: list[tuple[list[str | None], Paced]] = [(cached, FOLLOWS_UP)]
    if any(cached):
        attempts.append(([None] * len(products), PREPAID))
    for sources, paced in attempts:
        try:
            await _send(bot, chat_id, products, captions, sources, file_ids, paced)
            return True
        except BadRequest as error:
            log.warning("album for chat %s refused: %s", chat_id, error.message)
            for product in products:
                file_ids.pop(product.image_link)
    return False


async def _send(bot: ExtBot, chat_id: int, products: list[Product], captions: list[str],
                cached: list[str | None], file_ids: FileIds, paced: Paced) -> None:
    sources = await asyncio.gather(*(_source(p, file_id) for p, file_id in zip(products, cached, strict=True)))
    ready = [(product, source, text) for product, source, text in zip(products, sources, captions, strict=True)
             if source is not None]
    messages: Sequence[Message]
    if len(ready) >= 2:
        album = [InputMediaPhoto(source, caption=text, filename=upload_filename(product))
                 for product, source, text in ready]
        messages = await bot.send_media_group(chat_id, album, rate_limit_args=paced)
    elif ready:
        product, source, text = ready[0]
        messages = [await bot.send_photo(chat_id, source, caption=text, filename=upload_filename(product),
                                         rate_limit_args=paced)]
    else:
        return
    for (product, _, _), message in zip(ready, messages, strict=False):
        if message.photo:
            file_ids[product.image_link] = message.photo[-1].file_id


async def _source(product: Product, file_id: str | None) -> Source | None:
    if file_id:
        return file_id
    if product.image_is_remote:
        return product.image_link  # Telegram fetches it
    try:
        return await asyncio.to_thread(Path(product.image_link).read_bytes)
    except OSError as error:
        log.warning("product %s: image unreadable, left out of the album: %s", product.id, error)
        return None
