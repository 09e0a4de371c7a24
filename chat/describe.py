"""Filters as a user reads them, in their language: 'women · red · up to ₹2,000 · not: sandal · cheapest first'."""

from __future__ import annotations

from index import Filters

from . import words
from .i18n import Language
from .refine import singular

SEPARATOR = " · "
_FIELDS = ("gender", "color", "usage", "product_type", "brand")


def value_text(lang: Language, field: str, value: str) -> str:
    """One filter value in the user's words: the first of its translated words, the last level of a product
    type's path, or the catalog's label as it is."""
    shown = []
    for option in value.split("|"):
        label = option.split(">")[-1].strip()  # a product type's path: its most specific level
        entry = next((message for name, names, message in words.LABELS
                      if name == field and (names == option or _names(label) & _names(names))), None)
        shown.append(lang.p_(*entry).split("|")[0].rstrip("*") if entry is not None else label)
    return " / ".join(dict.fromkeys(shown))


def _names(names: str) -> set[str]:
    return {" ".join(singular(word) for word in name.split()) for name in names.split("|")}


def describe(lang: Language, filters: Filters, sort: str | None = None) -> str:
    """Every refinement in force, or 'none'."""
    parts = [value_text(lang, name, value) for name in _FIELDS if (value := getattr(filters, name))]
    if filters.min_price is not None:
        parts.append(lang._("from {price}", price=lang.price(filters.min_price, filters.currency)))
    if filters.max_price is not None:
        parts.append(lang._("up to {price}", price=lang.price(filters.max_price, filters.currency)))
    parts += [lang._("not: {what}", what=value_text(lang, name, value)) for name, value in filters.excluded]
    if filters.collection:
        parts.append(lang._("collection: {name}", name=filters.collection))
    if sort == "price":
        parts.append(lang._("cheapest first"))
    return SEPARATOR.join(parts) or lang._("none")
