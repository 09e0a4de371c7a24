"""What a user's message holds to search with, checked before anything is downloaded, and what to say when
it holds nothing usable."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, Document, Message, PhotoSize
from telegram.error import BadRequest

from chat import UserError
from chat.i18n import N_, Language
from chat.uploads import is_image_document, not_an_image

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB
STICKER = N_("That's a sticker — I can only search with photos. Send me a photo of clothing or shoes.")
ANIMATION = N_("GIFs and videos can't be searched — send me a still photo of the item.")
OTHER_MEDIA = N_("Send me a photo of clothing or shoes and I'll find similar products. /help tells more.")


@dataclass(frozen=True)
class ImageFile:
    file_id: str
    file_size: int | None
    lang: Language  # whose message it is: a refusal is told in their language


def image_file(message: Message, lang: Language) -> ImageFile:
    """The photo's largest size, or an image document; a UserError for anything else or too big."""
    chosen: PhotoSize | Document
    if message.photo:
        chosen = max(message.photo, key=lambda size: size.width * size.height)
    elif message.document and is_image_document(message.document.mime_type, message.document.file_name):
        chosen = message.document
    elif message.document:
        raise UserError(not_an_image(lang, message.document.mime_type, message.document.file_name))
    else:
        raise UserError(lang._(OTHER_MEDIA))
    if chosen.file_size and chosen.file_size > DOWNLOAD_LIMIT:
        raise UserError(too_big(lang, chosen.file_size, DOWNLOAD_LIMIT))
    return ImageFile(chosen.file_id, chosen.file_size, lang)


async def download(bot: Bot, image: ImageFile) -> bytes:
    try:
        file = await bot.get_file(image.file_id)
    except BadRequest as error:
        if "too big" in error.message.lower():  # the size was not known beforehand
            raise UserError(too_big(image.lang, image.file_size or DOWNLOAD_LIMIT + 1, DOWNLOAD_LIMIT)) from error
        raise
    return bytes(await file.download_as_bytearray(read_timeout=60))


def too_big(lang: Language, size_bytes: int, limit_bytes: int) -> str:
    return lang._("That file is {size} MB; bots can only download files up to {limit} MB. Please send a smaller "
                  "image, or send it as a photo.", size=f"{size_bytes / 2**20:.1f}", limit=limit_bytes // 2**20)


def unsupported(message: Message, lang: Language) -> str:
    """The reply to a message that holds nothing to search with."""
    if message.sticker:
        return lang._(STICKER)
    if message.animation or message.video or message.video_note:
        return lang._(ANIMATION)
    return lang._(OTHER_MEDIA)
