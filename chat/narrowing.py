"""/style words → index.Filters: gender, colour and usage words, anything else narrows the product type."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from index import Filters
from recommender import Style

CLEAR_WORDS = frozenset({"clear", "reset", "none", "off", "all", "any"})
GENDERS = {"men": "men", "man": "men", "male": "men", "mens": "men", "women": "women", "woman": "women",
           "female": "women", "womens": "women", "ladies": "women", "boys": "boys", "boy": "boys",
           "girls": "girls", "girl": "girls", "unisex": "unisex"}
COLOURS = frozenset({
    "black", "white", "grey", "gray", "blue", "navy", "navy blue", "red", "green", "brown", "pink", "purple",
    "yellow", "orange", "beige", "maroon", "silver", "gold", "olive", "cream", "khaki", "teal", "peach",
    "magenta", "lavender", "charcoal", "off white", "turquoise", "mustard", "rust", "tan", "copper",
    "bronze", "burgundy", "mauve", "multi", "metallic", "nude", "coffee", "taupe", "lime", "violet",
})
USAGES = {"casual": "casual", "formal": "formal", "sports": "sports", "sport": "sports", "sporty": "sports",
          "ethnic": "ethnic", "party": "party", "smart casual": "smart casual", "travel": "travel",
          "home": "home"}
_SPOKEN_COLOURS = {"gray": "grey"}
FIELDS = ("gender", "color", "usage", "product_type")
_TWO_WORDS = frozenset(phrase for phrase in (*COLOURS, *USAGES) if " " in phrase)


def is_clear(text: str) -> bool:
    return text.strip().lower() in CLEAR_WORDS


def narrow(current: Filters, text: str) -> Filters:
    """Add what ``text`` names to ``current``: '/style women' then '/style red' keeps both.

    >>> narrow(Filters(), "women navy blue party shoes")
    Filters(gender='women', color='navy blue', product_type='shoe', usage='party')
    """
    if is_clear(text):
        return Filters()
    field, equals, value = text.partition("=")
    if equals and field.strip() in FIELDS:  # what buttons send: one exact field, e.g. color=sea green
        pressed: dict[str, Any] = {field.strip(): value.strip().lower() or None}
        return replace(current, **pressed)
    words = text.lower().replace(",", " ").split()
    rest: list[str] = []
    found: dict[str, Any] = {}  # Filters field → value
    i = 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        phrase, i = (pair, i + 2) if pair in _TWO_WORDS else (words[i], i + 1)
        if phrase in GENDERS:
            found["gender"] = GENDERS[phrase]
        elif phrase in COLOURS:
            found["color"] = _SPOKEN_COLOURS.get(phrase, phrase)
        elif phrase in USAGES:
            found["usage"] = USAGES[phrase]
        else:
            rest.append(phrase)
    if rest:
        found["product_type"] = _stem(" ".join(rest))
    return replace(current, **found)


def _stem(words: str) -> str:
    """'shoes' → 'shoe', so that 'contains' finds 'Shoe' and 'Casual Shoes' alike; 'dress' stays."""
    if len(words) > 3 and words.endswith("s") and not words.endswith("ss"):
        return words[:-1]
    return words


def describe(filters: Filters) -> str:
    """What a user reads: 'women · red · party · type: shoe', or 'none'."""
    parts = [filters.gender, filters.color, filters.usage]
    if filters.product_type:
        parts.append(f"type: {filters.product_type}")
    return " · ".join(part for part in parts if part) or "none"


def suggestions(style: Style, current: Filters) -> list[tuple[str, str]]:
    """(label, exact narrowing) worth a button: each recognised value not already filtered on."""
    picks = []
    for field, guess in zip(FIELDS, (style.gender, style.colour, style.usage, style.category), strict=True):
        if guess is not None and guess.value and not getattr(current, field):
            picks.append((guess.value.lower(), f"{field}={guess.value.lower()}"))
    return picks
