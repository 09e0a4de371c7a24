"""Deep-link payloads (``t.me/<bot>?start=<payload>``): a product (``p_<id>``) or a shop's collection
(``c_<name>``, a custom label of its feed, e.g. a campaign). Telegram allows 64 characters of A-Z, a-z, 0-9, _
and -; a product id with other characters travels base64-encoded (``pb_…``)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

PAYLOAD_LIMIT = 64
_SAFE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Shared:
    kind: str  # 'product' or 'collection'
    value: str


def product_payload(product_id: str) -> str | None:
    """The payload that opens the bot on this product; None when even encoded it is too long."""
    payload = f"p_{product_id}" if _SAFE.fullmatch(product_id) else \
        "pb_" + base64.urlsafe_b64encode(product_id.encode()).decode().rstrip("=")
    return payload if len(payload) <= PAYLOAD_LIMIT else None


def parse(payload: str) -> Shared | None:
    """What a /start payload shares; None for anything else (the welcome is shown instead)."""
    kind, _, value = payload.strip().partition("_")
    if not value:
        return None
    if kind == "p":
        return Shared("product", value)
    if kind == "pb":
        try:
            return Shared("product", base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError):
            return None
    if kind == "c":
        return Shared("collection", value)
    return None
