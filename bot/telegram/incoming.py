"""What a user's message holds to search with, checked before anything is downloaded, and what to say when
it holds nothing usable."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, Message
from telegram.error import BadRequest

from chat import UserError
from chat.uploads import is_image_document, not_an_image

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB
STICKER = "That's a sticker — I can only search with photos. Send me a photo of clothing or shoes."
ANIMATION = "GIFs and videos can't be searched — send me a still photo of the item."
OTHER_MEDIA = "Send me a photo of clothing or shoes and I'll find similar products. /help tells more."


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
        raise UserError(OTHER_MEDIA)
    if chosen.file_size and chosen.file_size > DOWNLOAD_LIMIT:
        raise UserError(too_big(chosen.file_size, DOWNLOAD_LIMIT))
    return ImageFile(chosen.file_id, chosen.file_size)


async def download(bot: Bot, image: ImageFile) -> bytes:
    try:
        file = await bot.get_file(image.file_id)
    except BadRequest as error:
        if "too big" in error.message.lower():  # the size was not known beforehand
            raise UserError(too_big(image.file_size or DOWNLOAD_LIMIT + 1, DOWNLOAD_LIMIT)) from error
        raise
    return bytes(await file.download_as_bytearray(read_timeout=60))


def too_big(size_bytes: int, limit_bytes: int) -> str:
    return (f"That file is {size_bytes / 2**20:.1f} MB; bots can only download files up to "
            f"{limit_bytes // 2**20} MB. Please send a smaller image, or send it as a photo.")


def unsupported(message: Message) -> str:
    """The reply to a message that holds nothing to search with."""
    if message.sticker:
        return STICKER
    if message.animation or message.video or message.video_note:
        return ANIMATION
    return OTHER_MEDIA
