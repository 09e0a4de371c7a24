"""A product record: what a shop's feed says about one item, cleaned."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog item, in Google Merchant Center terms.

    ``image_link`` is either an http(s) URL or an absolute local path (feeds may give paths relative
    to themselves; the feed reader resolves them). ``price`` is the feed's text, kept for display;
    ``price_amount`` / ``price_currency`` are what :func:`parse_price` makes of it (filled from ``price``
    when neither is given, so records stored before they existed get them too). Either is None where the
    text does not say it unambiguously.
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
    price_amount: float | None = None
    price_currency: str | None = None
    # The product's kind, colour, gender and usage in the fashion heads' vocabulary, whatever words the shop uses:
    # attribute → {"value", "source" ("feed" or "image"), "confidence", "evidence"}. The shop's own text above
    # is what a reply shows; whatever compares labels (filters, re-rank, /style) reads these.
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # attribute → {"feed", "image", "image_confidence"} where the packshot contradicted the feed's label.
    label_conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def label(self, attribute: str) -> str | None:
        """The normalised label of ``attribute`` ("category", "sub_category", "colour", "gender", "usage")."""
        found = self.labels.get(attribute)
        return found["value"] if found else None

    def __post_init__(self) -> None:
        if self.price and self.price_amount is None and self.price_currency is None:
            amount, currency = parse_price(self.price)
            object.__setattr__(self, "price_amount", amount)
            object.__setattr__(self, "price_currency", currency)

    @property
    def image_is_remote(self) -> bool:
        return is_web_url(self.image_link)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["additional_image_links"] = list(self.additional_image_links)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Product:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["additional_image_links"] = tuple(known.get("additional_image_links") or ())
        known["extra"] = dict(known.get("extra") or {})
        known["labels"] = dict(known.get("labels") or {})
        known["label_conflicts"] = dict(known.get("label_conflicts") or {})
        if known.get("price_amount") is not None:
            known["price_amount"] = float(known["price_amount"])
        return cls(**known)


def is_web_url(text: str) -> bool:
    """An http(s) URL (the feed reader writes the scheme lower-case; others may not)."""
    return text[:8].lower().startswith(("http://", "https://"))


# Symbols that name one currency only. "$" (USD, CAD, AUD, MXN …), "¥" (JPY, CNY) and "kr" do not.
_SYMBOLS = {"€": "EUR", "£": "GBP", "₴": "UAH", "₽": "RUB", "₹": "INR", "₩": "KRW", "₺": "TRY", "₪": "ILS",
            "₫": "VND", "₱": "PHP", "₦": "NGN", "zł": "PLN", "US$": "USD", "C$": "CAD", "A$": "AUD",
            "NZ$": "NZD", "HK$": "HKD", "R$": "BRL", "S$": "SGD"}
_AMBIGUOUS = ("$", "¥", "￥", "kr", "Fr")
_SIGNS = "|".join(re.escape(s) for s in sorted([*_SYMBOLS, *_AMBIGUOUS], key=len, reverse=True))
_PRICE = re.compile(
    rf"^(?:(?P<pre_code>[A-Za-z]{{3}})\s*|(?P<pre_sign>{_SIGNS})\s*)?"
    r"(?P<number>[0-9][0-9.,' \u00a0\u202f]*)"
    rf"(?:\s*(?P<post_code>[A-Za-z]{{3}})|\s*(?P<post_sign>{_SIGNS}))?$"
)
_GROUPED = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+$")


def parse_price(text: str | None) -> tuple[float | None, str | None]:
    """'32.0 USD', 'USD 32.0', '1,230.50 EUR', '1.230,50 EUR', '4800 JPY', '€12,99' → (amount, ISO code).

    Merchant Center's form is "<number> <ISO 4217 code>"; the others are what exporters write. The
    currency is None when the text gives none, or only a symbol several currencies use ("$12.99"); the
    amount is None when the number is not readable. Nothing here raises.
    """
    if not text:
        return None, None
    match = _PRICE.match(text.strip())
    if not match:
        code = re.search(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])", text)
        return None, code.group(0) if code else None
    codes = [c for c in (match["pre_code"], match["post_code"]) if c]
    signs = [s for s in (match["pre_sign"], match["post_sign"]) if s]
    if len(codes) + len(signs) > 1 and not (len(codes) == 1 and len(signs) == 1):
        return None, None
    currency = codes[0].upper() if codes else None
    if signs:
        named = _SYMBOLS.get(signs[0])
        if currency is None:
            currency = named
        elif named not in (None, currency):
            currency = None  # "€12 USD": which one?
    return _amount(match["number"]), currency


def _amount(number: str) -> float | None:
    digits = re.sub(r"[ '\u00a0\u202f]", "", number.strip())
    if re.search(r"[ '\u00a0\u202f]", number.strip()) and not re.fullmatch(
        r"[0-9]{1,3}(?:[ '\u00a0\u202f][0-9]{3})+(?:[.,][0-9]+)?", number.strip()
    ):
        return None  # spaces that are not thousands groups: "12 34"
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
        group = "," if decimal == "." else "."
        whole, _, fraction = digits.rpartition(decimal)
        if whole.count(decimal) or not re.fullmatch(r"[0-9]{1,3}(?:" + re.escape(group) + r"[0-9]{3})+", whole):
            return None
        digits = whole.replace(group, "") + "." + fraction
    elif commas:
        if _GROUPED.match(digits):  # "1,230" and "1,234,567": thousands, as "4,800 JPY" means
            digits = digits.replace(",", "")
        elif commas == 1 and re.fullmatch(r"[0-9]+,[0-9]{1,2}", digits):
            digits = digits.replace(",", ".")  # "12,99": a decimal comma
        else:
            return None
    elif dots > 1:
        if not re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{3})+", digits):
            return None
        digits = digits.replace(".", "")  # "1.234.567"
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", digits):
        return None
    return float(digits)
