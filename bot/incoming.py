"""Which file of a user's message to search with, checked before anything is downloaded."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, Message
from telegram.error import BadRequest

from fashionbot.chat import UserError
from fashionbot.chat.render import is_image_document, not_an_image

from . import replies

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB


@dataclass(frozen=True)
class ImageFile:
    file_id: str
    file_size: int | None



def image_file(message: Message) -> ImageFile:
    """The photo's largest size, or an image document; a UserError for anything else or too big."""
    if message.photo:
        chosen = max(message.photo, key=lambda size: size.width * size.height)
    elif message.document and is_image_document(message.document.mime_type, message.document.file_name):
        chosen = message.document
    elif message.document:
        raise UserError(not_an_image(message.document.mime_type, message.document.file_name))
    else:
        raise UserError(replies.OTHER_MEDIA)
    if chosen.file_size and chosen.file_size > DOWNLOAD_LIMIT:
        raise UserError(replies.too_big(chosen.file_size, DOWNLOAD_LIMIT))
    return ImageFile(chosen.file_id, chosen.file_size)


async def download(bot: Bot, image: ImageFile) -> bytes:
    try:
        file = await bot.get_file(image.file_id)
    except BadRequest as error:
        if "too big" in error.message.lower():  # the size was not known beforehand
            raise UserError(replies.too_big(image.file_size or DOWNLOAD_LIMIT + 1, DOWNLOAD_LIMIT)) from error
        raise
    return bytes(await file.download_as_bytearray(read_timeout=60))
