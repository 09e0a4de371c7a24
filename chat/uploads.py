"""Files between users and the bot: which uploads are images, and a safe name for sending a product image."""

from __future__ import annotations

import re
from pathlib import Path

from catalog.product import Product

from .i18n import Language
from .replies import shorten

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")


def is_image_document(mime_type: str | None, file_name: str | None) -> bool:
    """An image sent as a file: by its MIME type, or by its name when the client sent no real type."""
    if mime_type and mime_type != "application/octet-stream":
        return mime_type.lower().startswith("image/")
    return bool(file_name and file_name.lower().endswith(IMAGE_EXTENSIONS))


def upload_filename(product: Product) -> str:
    """A safe file name for uploading a local product image: its id, with the image's own extension."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", product.id)[:64] + (Path(product.image_link).suffix.lower() or ".jpg")


def not_an_image(lang: Language, mime_type: str | None, file_name: str | None) -> str:
    what = mime_type or file_name or lang._("unknown type")
    return lang._("That file isn't an image ({what}). Send a photo, or an image file (JPEG, PNG, WebP).",
                  what=shorten(what, 60))
