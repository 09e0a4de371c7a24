"""Plain words → a refinement of the current results: "in red", "for women", "under 2000", "no sandals",
"sneakers only", "sort by price", "start over". Pure: a text and a :class:`Vocabulary` in, a :class:`Refinement`
out; :func:`refined` applies one to the filters.

A vocabulary joins the language's words (:mod:`.words`, translated in the gettext catalogs) with the catalog's
own labels — its colours, product types (each level of 'Footwear > Shoes > Heels'), usages and brands — so a
shop's own words work in any language. Matching folds case, accents and English plurals.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from catalog.product import parse_price
from catalog.vocabulary.words import fold  # one folding for shop labels and users' words
from index import CatalogLabels, Filters

from . import words
from .i18n import CURRENCIES, Language

MAX_PHRASE = 4  # words in the longest phrase ("price low to high")
SYMBOLS = {"€": "EUR", "£": "GBP", "₹": "INR", "₽": "RUB", "₴": "UAH", "$": "USD", "¥": "JPY", "<": "", ">": "",
           "≤": "", "≥": "", "-": "", "–": ""}
_NUMBER = r"\d+(?:[.,'\u00a0\u202f]\d+)*k?"
# Devanagari vowel signs are not \w to Python's re: a Hindi word is matched whole before letters are tried.
_TOKEN = re.compile(rf"{_NUMBER}|[{''.join(map(re.escape, SYMBOLS))}]|[\u0900-\u0963\u0971-\u097f]+"
                    r"|[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def singular(word: str) -> str:
    """English plurals folded: 'dresses' → 'dress', 'ladies' → 'lady', 'sneakers' → 'sneaker'."""
    if not word.isascii() or len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def tokens(text: str) -> list[str]:
    """Words (Devanagari with its vowel signs), numbers and price symbols; "men's" → "men"."""
    found = _TOKEN.findall(fold(text))
    return [re.sub(r"['’]s$", "", token).replace("’", "'") for token in found]


@dataclass(frozen=True)
class Meaning:
    """What a phrase means: ``kind`` is 'label' (with ``field`` and ``value``), 'currency' (``value``), or one
    of the word families of :mod:`.words` ('reset', 'cheaper', 'at_most', …)."""

    kind: str
    field: str | None = None
    value: str | None = None


_FAMILIES = {"reset": words.RESET, "cheaper": words.CHEAPER, "at_most": words.AT_MOST,
             "at_least": words.AT_LEAST, "between": words.BETWEEN, "by_price": words.BY_PRICE,
             "by_similarity": words.BY_SIMILARITY, "not": words.NOT, "and": words.AND, "ignored": words.IGNORED}


class Vocabulary:
    """One language's words and one catalog's labels, phrase → :class:`Meaning`."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, ...], Meaning] = {}
        self._open: list[tuple[tuple[str, ...], Meaning]] = []  # phrases with a word ending in '*'

    def add(self, phrase: str, meaning: Meaning, *, keep: bool = True) -> None:
        """``keep``: an earlier meaning of the same phrase wins (word families before labels)."""
        key = tuple(singular(word) if not word.endswith("*") else word for word in tokens_or_stars(phrase))
        if not key:
            return
        if any(word.endswith("*") for word in key):
            self._open.append((key, meaning))
        elif not (keep and key in self._exact):
            self._exact[key] = meaning

    def lookup(self, found: list[str], start: int) -> tuple[Meaning, int] | None:
        """The longest phrase at ``found[start]``: its meaning and how many words it took."""
        for length in range(min(MAX_PHRASE, len(found) - start), 0, -1):
            span = found[start:start + length]
            meaning = self._exact.get(tuple(singular(word) for word in span))
            if meaning is None:
                meaning = next((m for key, m in self._open if len(key) == length and _fits(key, span)), None)
            if meaning is not None:
                return meaning, length
        return None

    def examples(self, kind: str) -> list[str]:
        return [" ".join(key) for key, meaning in self._exact.items() if meaning.kind == kind]


def tokens_or_stars(phrase: str) -> list[str]:
    """A vocabulary phrase's words; a trailing '*' is kept (any ending)."""
    return [word + "*" if star else word
            for word, star in re.findall(r"([^\s*]+)(\*)?", fold(phrase)) if word]


def _fits(key: tuple[str, ...], span: list[str]) -> bool:
    return all(word.startswith(want[:-1]) if want.endswith("*") else singular(word) == want
               for want, word in zip(key, span, strict=True))


@functools.lru_cache(maxsize=32)  # per language and catalog build: both are few, and the build never changes
def vocabulary(lang: Language, labels: CatalogLabels) -> Vocabulary:
    """English words, this language's, then the catalog's labels (their own words win over nothing else)."""
    known = Vocabulary()
    speakers = [lang] if lang.code == "en" else [lang, _english()]
    for name, (context, message) in _FAMILIES.items():
        for speaker in speakers:
            for phrase in speaker.p_(context, message).split("|"):
                known.add(phrase, Meaning(name))
    types = _type_prefixes(labels.product_type)
    for field_name, value, (context, message) in words.LABELS:
        if field_name == "product_type":
            value = _resolve_types(value, types)
        for speaker in speakers:
            for phrase in speaker.p_(context, message).split("|"):
                known.add(phrase, Meaning("label", field_name, value))
    for code, (context, message) in words.CURRENCY_WORDS:
        for speaker in speakers:
            for phrase in speaker.p_(context, message).split("|"):
                known.add(phrase, Meaning("currency", value=code))
    for field_name in ("gender", "color", "usage", "brand"):
        for label in getattr(labels, field_name):
            known.add(label, Meaning("label", field_name, label))
    for phrase, prefixes in types.items():
        known.add(phrase, Meaning("label", "product_type", "|".join(_outermost(prefixes))))
    return known


def _english() -> Language:
    from .i18n import language

    return language("en")


def _type_prefixes(product_types: tuple[str, ...]) -> dict[str, set[str]]:
    """Each level of each product type → the type paths up to it: 'shoes' → {'footwear > shoes'}."""
    found: dict[str, set[str]] = {}
    for label in product_types:
        levels = [level.strip() for level in label.split(">")]
        for depth, level in enumerate(levels, 1):
            if level:
                found.setdefault(" ".join(singular(w) for w in tokens(level)), set()).add(" > ".join(levels[:depth]))
    return found


def _outermost(paths: set[str]) -> list[str]:
    """Paths not inside another of them: {'footwear > sandal', 'footwear > sandal > sandals'} → the first."""
    return sorted(path for path in paths if not any(path.startswith(other + " > ") for other in paths))


def _resolve_types(names: str, types: dict[str, set[str]]) -> str:
    """A word family's type names as this catalog's type paths; names it lacks stay as they are (and match
    nothing, which the reply then says)."""
    resolved: set[str] = set()
    for name in names.split("|"):
        resolved |= types.get(" ".join(singular(w) for w in tokens(name)), {name})
    return "|".join(_outermost(resolved))


@dataclass(frozen=True)
class Refinement:
    """What one message asks for; empty (falsy) when it asked for nothing understood."""

    reset: bool = False
    labels: tuple[tuple[str, str], ...] = ()  # (field, value): keep only these
    excluded: tuple[tuple[str, str], ...] = ()  # (field, value): leave these out
    min_price: float | None = None
    max_price: float | None = None
    currency: str | None = None  # the currency the user named with a price
    cheaper: bool = False
    sort: str | None = None  # 'price' or 'similarity'; None: unchanged
    unknown: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.reset or self.labels or self.excluded or self.cheaper or self.sort
                    or self.min_price is not None or self.max_price is not None)


@dataclass
class _Reading:
    """The parser's state while it reads one message left to right."""

    labels: list[tuple[str, str]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    bounds: dict[str, float] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    currency: str | None = None
    negate: bool = False
    waiting: str | None = None  # a bound word waiting for its number: 'at_most', 'at_least', 'between'
    loose: float | None = None  # a number read but not yet bound (Hindi puts the bound after it)

    def number(self, amount: float) -> None:
        if self.waiting == "between":
            self.bounds["at_least"], self.waiting = amount, "at_most"
        elif self.waiting:
            self.bounds[self.waiting], self.waiting = amount, None
        else:
            self.loose = amount

    def exclude_last_or_next(self, after_label: bool) -> None:
        """'no sandals', and 'सैंडल नहीं' (Hindi puts the 'not' after what it negates)."""
        if after_label and self.labels:
            self.excluded.append(self.labels.pop())
        else:
            self.negate = True

    def range(self) -> None:
        """'1000-2000': the number before is the lower bound, the one after the upper."""
        if self.loose is not None:
            self.bounds["at_least"], self.loose = self.loose, None
        self.waiting = "at_most"

    def bound(self, kind: str, number_follows: bool) -> None:
        if number_follows:
            self.waiting = kind
        elif self.loose is not None:
            self.bounds["at_most" if kind == "between" else kind], self.loose = self.loose, None
        elif kind == "at_most":
            self.unknown.append("…")


def parse(text: str, known: Vocabulary) -> Refinement:
    """What ``text`` asks of the current results (see the module's examples)."""
    found = tokens(text)
    reading = _Reading()
    previous_was_label = False
    for position, item in _items(found, known):
        was_label, previous_was_label = previous_was_label, False
        if isinstance(item, float):
            reading.number(item)
            continue
        meaning, word = item
        follows = _number_follows(found, position, known)
        if meaning is None:
            reading.unknown.append(word)
            reading.negate = False
        elif meaning.kind == "label" and meaning.field and meaning.value:
            (reading.excluded if reading.negate else reading.labels).append((meaning.field, meaning.value))
            previous_was_label = not reading.negate
        elif meaning.kind == "currency":
            reading.currency = meaning.value or reading.currency
        elif meaning.kind in ("at_most", "at_least", "between") or (meaning.kind == "cheaper" and follows):
            reading.bound("at_most" if meaning.kind == "cheaper" else meaning.kind, follows)
        elif meaning.kind == "range":
            reading.range()
        elif meaning.kind == "not":
            reading.exclude_last_or_next(was_label and not _label_follows(found, position, known))
        elif meaning.kind not in ("and", "ignored"):
            reading.flags.add(meaning.kind)
            reading.negate = False
    if reading.loose is not None and not reading.bounds:
        reading.unknown.append(_number_text(reading.loose))
    sort = "price" if "by_price" in reading.flags else "similarity" if "by_similarity" in reading.flags else None
    return Refinement(reset="reset" in reading.flags, labels=tuple(reading.labels), excluded=tuple(reading.excluded),
                      min_price=reading.bounds.get("at_least"), max_price=reading.bounds.get("at_most"),
                      currency=reading.currency, cheaper="cheaper" in reading.flags and not reading.bounds,
                      sort=sort, unknown=tuple(reading.unknown))


def _items(found: list[str], known: Vocabulary) -> Iterator[tuple[int, float | tuple[Meaning | None, str]]]:
    """(position, a number — its currency noted as a meaning — or (meaning or None, the word))."""
    position = 0
    while position < len(found):
        word = found[position]
        if word[0].isdigit():
            amount, currency = _amount(word)
            yield position, amount
            if currency:
                yield position, (Meaning("currency", value=currency), word)
            position += 1
        elif word in SYMBOLS and not SYMBOLS[word]:
            kind = {"<": "at_most", "≤": "at_most", ">": "at_least", "≥": "at_least"}.get(word, "range")
            yield position, (Meaning(kind), word)
            position += 1
        elif word in SYMBOLS or (word.upper() in CURRENCIES and _next_to_number(found, position)):
            yield position, (Meaning("currency", value=SYMBOLS.get(word) or word.upper()), word)
            position += 1
        else:
            hit = known.lookup(found, position)
            yield position, ((hit[0], word) if hit else (None, word))
            position += hit[1] if hit else 1


def _amount(word: str) -> tuple[float, str | None]:
    thousands = word.endswith("k")
    amount, currency = parse_price(word.removesuffix("k"))
    return (amount or 0.0) * (1000 if thousands else 1), currency


def _number_follows(found: list[str], position: int, known: Vocabulary) -> bool:
    """Whether a number comes next, past currency signs and ignored words ('under $ 50', 'cheaper than 50')."""
    hit = known.lookup(found, position)
    step = hit[1] if hit else 1
    for word in found[position + step:position + step + 3]:
        if word[0].isdigit():
            return True
        if word in SYMBOLS and SYMBOLS[word]:
            continue
        meaning = known.lookup([word], 0)
        if meaning is None or meaning[0].kind not in ("ignored", "currency"):
            return False
    return False


def _label_follows(found: list[str], position: int, known: Vocabulary) -> bool:
    """Whether a label comes next, past ignored words: 'no red', but not 'सैंडल नहीं' (the 'not' comes last)."""
    hit = known.lookup(found, position)
    start = position + (hit[1] if hit else 1)
    while start < len(found):
        nxt = known.lookup(found, start)
        if nxt is None or nxt[0].kind != "ignored":
            return nxt is not None and nxt[0].kind == "label"
        start += nxt[1]
    return False


def _next_to_number(found: list[str], position: int) -> bool:
    return any(0 <= i < len(found) and found[i][0].isdigit() for i in (position - 1, position + 1))


def _number_text(amount: float) -> str:
    return f"{amount:g}"


def refined(current: Filters, refinement: Refinement, currency: str | None) -> Filters:
    """``current`` with ``refinement`` applied: a named value replaces that field's value (several named in one
    message are alternatives: 'red or blue'); exclusions add up; a price bound replaces the old one, in the
    currency the user named, else ``currency`` (the one the results are priced in)."""
    base = Filters(collection=current.collection) if refinement.reset else current
    changes: dict[str, Any] = {}  # Filters field → new value
    named: dict[str, list[str]] = {}
    for name, value in refinement.labels:
        named.setdefault(name, [])
        if value not in named[name]:
            named[name].append(value)
    for name, values in named.items():
        changes[name] = "|".join(values)
    excluded = [pair for pair in base.excluded if pair[0] not in named]
    for pair in refinement.excluded:
        if pair not in excluded:
            excluded.append(pair)
        if getattr(base, pair[0]) == pair[1] and pair[0] not in named:
            changes[pair[0]] = None
    changes["excluded"] = tuple(excluded)
    if refinement.min_price is not None or refinement.max_price is not None:
        changes.update(min_price=refinement.min_price, max_price=refinement.max_price,
                       currency=refinement.currency or currency)
    return replace(base, **changes)


def relaxations(filters: Filters) -> list[Filters]:
    """The filters with one refinement less each, the likeliest to be given up first: the price cap, the
    price floor, the newest exclusion …, then brand, colour, product type, usage and gender."""
    found = []
    if filters.max_price is not None:
        found.append(replace(filters, max_price=None))
    if filters.min_price is not None:
        found.append(replace(filters, min_price=None))
    for pair in reversed(filters.excluded):
        found.append(replace(filters, excluded=tuple(p for p in filters.excluded if p != pair)))
    for name in ("brand", "color", "product_type", "usage", "gender"):
        if getattr(filters, name):
            cleared: dict[str, Any] = {name: None}
            found.append(replace(filters, **cleared))
    return found
