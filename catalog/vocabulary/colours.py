"""A shop's colour name → one of the heads' colour families: "Dark Blue" → Navy Blue, "Ecru" → Cream.

A name is a family word with modifiers around it ("Light Grey", "Azul Marino", "Темно-синій", "ブラック"):
the first family word found names it ("Beige Crudo" → Beige, "Wine Red" → Maroon), a whole phrase first
("Navy Blue" is not Blue). A list ("Black/White", "Red, Blue, Green") names its first colour, or Multi from
three colours on. Names with no known word stay unlabelled: the packshot's pixels label those.
"""

from __future__ import annotations

import re

from catalog.vocabulary.words import WordTable

_LIST = re.compile(r"\s*(?:[/,;|+&]|\band\b|\by\b|\bи\b|\bі\b|\bi\b|・|、)\s*", re.IGNORECASE)
MULTI = "Multi"
MULTI_FROM = 3  # colours in a list that make it multicoloured rather than "the first one"


def colour_family(name: str, table: WordTable) -> tuple[str, str, bool] | None:
    """(family, the words that named it, whether the name is a list of colours) or None."""
    families: list[tuple[str, str]] = []
    for part in _LIST.split(name):
        if not part:
            continue
        found = [match for match in table.find(part) if match.attribute == "colour"]
        if found:
            families.append((found[0].label, found[0].words))
    if not families:
        return None
    distinct = list(dict.fromkeys(family for family, _ in families))
    if MULTI in distinct:
        return MULTI, next(words for family, words in families if family == MULTI), len(distinct) > 1
    if len(distinct) >= MULTI_FROM:
        return MULTI, ", ".join(words for _, words in families), True
    return families[0][0], families[0][1], len(distinct) > 1
