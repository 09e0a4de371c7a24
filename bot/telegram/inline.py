"""Inline mode (``@bot`` in any chat): the user's current results as product cards to share, each with its
shop link and a deep link that opens the bot on it (``t.me/<bot>?start=p_<id>``)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultPhoto,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.helpers import create_deep_linked_url

from chat import AlbumItem
from chat.i18n import Language
from chat.replies import is_web_link
from chat.sharing import product_payload

from .outgoing import FileIds

CACHE_S = 10  # results are the user's own and change with each photo


async def answer(query: InlineQuery, items: Sequence[AlbumItem], bot_username: str, file_ids: FileIds,
                 lang: Language) -> None:
    button = None if items else InlineQueryResultsButton(lang._("Send me a photo first"), start_parameter="inline")
    await query.answer([card(item, bot_username, file_ids, lang) for item in items], cache_time=CACHE_S,
                       is_personal=True, button=button)


def card(item: AlbumItem, bot_username: str, file_ids: FileIds, lang: Language) -> InlineQueryResult:
    """A photo card where Telegram can show the image (a file_id it made, or a web URL), else a text card."""
    product, markup = item.product, buttons(item, bot_username, lang)
    caption = item.caption.split(". ", 1)[-1]  # the number means nothing in another chat
    result_id = f"{item.number}-{product.id}"[:64]
    cached = file_ids.get(product.image_link)
    if cached:
        return InlineQueryResultCachedPhoto(result_id, cached, caption=caption, reply_markup=markup)
    if product.image_is_remote:
        return InlineQueryResultPhoto(result_id, product.image_link, product.image_link, caption=caption,
                                      reply_markup=markup, title=product.title)
    return InlineQueryResultArticle(result_id, product.title or product.id, InputTextMessageContent(caption),
                                    reply_markup=markup, description=product.price)


def buttons(item: AlbumItem, bot_username: str, lang: Language) -> InlineKeyboardMarkup | None:
    row = []
    if is_web_link(item.product.link):
        row.append(InlineKeyboardButton(lang._("Open in the shop"), url=item.product.link))
    payload = product_payload(item.product.id)
    if payload and bot_username:
        row.append(InlineKeyboardButton(lang._("Similar products"), url=create_deep_linked_url(bot_username, payload)))
    return InlineKeyboardMarkup([row]) if row else None
