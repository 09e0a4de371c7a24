"""Choosing what to search with from a message, before any download."""

from __future__ import annotations

import pytest
from telegram import Message

from bot.telegram.incoming import DOWNLOAD_LIMIT, ImageFile, image_file
from chat import UserError
from chat.i18n import language
from chat.uploads import is_image_document

EN = language("en")


@pytest.mark.parametrize(("mime_type", "file_name", "expected"), [
    ("image/jpeg", "a.jpg", True),
    ("image/png", None, True),
    ("IMAGE/WEBP", "x", True),
    ("application/pdf", "a.pdf", False),
    ("video/mp4", "clip.gif.mp4", False),
    ("application/octet-stream", "photo.JPG", True),  # no real type: the name decides
    (None, "photo.heic", True),
    (None, "notes.txt", False),
    (None, None, False),
])
def test_is_image_document(mime_type: str | None, file_name: str | None, expected: bool) -> None:
    assert is_image_document(mime_type, file_name) is expected


def message(**content: object) -> Message:
    return Message.de_json({"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, **content}, None)


def size(file_id: str, width: int, height: int, file_size: int | None = 1000) -> dict:
    return {"file_id": file_id, "file_unique_id": file_id, "width": width, "height": height,
            "file_size": file_size}


def test_the_largest_photo_size_is_chosen() -> None:
    photo = [size("s", 90, 60), size("l", 1280, 853), size("m", 320, 213)]
    assert image_file(message(photo=photo), EN) == ImageFile("l", 1000, EN)


def test_an_image_document_is_chosen_and_anything_too_big_refused() -> None:
    document = {"file_id": "d", "file_unique_id": "d", "mime_type": "image/png", "file_size": 2048}
    assert image_file(message(document=document), EN) == ImageFile("d", 2048, EN)
    with pytest.raises(UserError, match="21.0 MB"):
        image_file(message(document={**document, "file_size": 21 * 2**20}), EN)
    assert image_file(message(document={**document, "file_size": DOWNLOAD_LIMIT}), EN).file_size == DOWNLOAD_LIMIT


@pytest.mark.parametrize(("content", "reply"), [
    ({"document": {"file_id": "d", "file_unique_id": "d", "mime_type": "application/zip"}},
     "isn't an image (application/zip)"),
    ({"text": "hello"}, "Send me a photo"),
])
def test_anything_else_is_a_user_error(content: dict, reply: str) -> None:
    with pytest.raises(UserError, match=reply.replace("(", r"\(").replace(")", r"\)")):
        image_file(message(**content), EN)
