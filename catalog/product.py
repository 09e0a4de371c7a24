"""A product record: what a shop's feed says about one item, cleaned."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog item, in Google Merchant Center terms.

    ``image_link`` is either an http(s) URL or an absolute local path (feeds may give paths relative
    to themselves; the feed reader resolves them).
    """

    id: str
    title: str
    link: str
    image_link: str
    price: str | None = None
    brand: str | None = None
    color: str | None = None
    gender: str | None = None
    age_group: str | None = None
    product_type: str | None = None
    google_product_category: str | None = None
    availability: str | None = None
    additional_image_links: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def image_is_remote(self) -> bool:
        return self.image_link.startswith(("http://", "https://"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["additional_image_links"] = list(self.additional_image_links)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Product:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["additional_image_links"] = tuple(known.get("additional_image_links") or ())
        known["extra"] = dict(known.get("extra") or {})
        return cls(**known)
