"""The emulator's file store: Telegram-shaped file ids and paths, photo sizes, download bytes."""

from __future__ import annotations

import base64
import io
import itertools
import secrets
from dataclasses import dataclass

from PIL import Image

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files: the Bot API's download limit for bots
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_SIZES = (90, 320, 800, 1280)  # the side lengths Telegram's thumbnails are made at

_PREFIX = {"photo": "AgACAgIAAxkB", "document": "BQACAgIAAxkB", "sticker": "CAACAgIAAxkB",
           "animation": "CgACAgIAAxkB"}
_FOLDER = {"photo": "photos", "document": "documents", "sticker": "stickers", "animation": "animations"}


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_size: int  # as reported to the bot; tests may claim more than ``len(data)``

    def file_dict(self) -> dict[str, object]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.file_size}


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header alone, or None when the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


class FileStore:
    """Every file the emulated server knows: uploaded by the bot, or sent by emulated users."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, object]]] = {}
        self._numbers = itertools.count(1)

    def add(self, kind: str, data: bytes, *, extension: str = "jpg",
            file_size: int | None = None) -> StoredFile:
        number = next(self._numbers)
        stored = StoredFile(
            file_id=_PREFIX[kind] + base64.urlsafe_b64encode(secrets.token_bytes(42)).decode().rstrip("="),
            file_unique_id="AQAD" + base64.urlsafe_b64encode(secrets.token_bytes(9)).decode(),
            kind=kind, data=data, file_path=f"{_FOLDER[kind]}/file_{number}.{extension}",
            file_size=len(data) if file_size is None else file_size,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def photo_set(self, file_id: str) -> list[dict[str, object]] | None:
        """The PhotoSize list a photo's file_id belongs to (re-sending a file_id returns the same set)."""
        return self._photo_sets.get(file_id)

    def add_photo(self, data: bytes, sizes: tuple[int, ...] = PHOTO_SIZES) -> list[dict[str, object]]:
        """Store a photo as Telegram does: smaller JPEG copies at ``sizes``, then the original."""
        photo: list[dict[str, object]] = []
        dims = image_dimensions(data)
        if dims is not None:
            with Image.open(io.BytesIO(data)) as image:
                for side in sizes:
                    if max(dims) <= side:
                        break
                    copy = image.convert("RGB")
                    copy.thumbnail((side, side))
                    buffer = io.BytesIO()
                    copy.save(buffer, "JPEG", quality=80)
                    photo.append(self._size(self.add("photo", buffer.getvalue()), copy.size))
        photo.append(self._size(self.add("photo", data), dims or (0, 0)))
        for size in photo:
            self._photo_sets[str(size["file_id"])] = photo
        return photo

    @staticmethod
    def _size(stored: StoredFile, dims: tuple[int, int]) -> dict[str, object]:
        return {**stored.file_dict(), "width": dims[0], "height": dims[1]}
