"""Finding the vocabulary's words in a shop's text: folded, tokenised, matched against precompiled tables.

Each attribute's words live in a TOML file beside this module (``category.toml`` …): a table per label, a list
of words per language. A word may be a phrase ("flip flops", "ночная сорочка"); ``*`` ends a word that may
take any ending ("футболк*" is every form of "футболка"), for the inflected languages. Words written in
Japanese or Chinese script are found anywhere in the text, since those languages put no spaces between words.
Matching folds case and accents on both sides, so "Camisón" finds "camison" and "ЧЁРНЫЙ" finds "черный".
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from importlib.resources import files

# Devanagari vowel signs are not \w to Python's re: a Hindi word is taken whole before letters are tried.
_TOKEN = re.compile(r"[\u0900-\u0963\u0971-\u097f]+|[^\W_]+")
_SPACELESS = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]")
_KATAKANA_GOES_ON = r"(?![\u30a1-\u30fa\u30fc])"
MIN_STEM = 2  # "*" after fewer letters would match nearly anything


def fold(text: str) -> str:
    """Lower case without accents: 'Crème' → 'creme', 'ЧЁРНЫЙ' → 'черныи', 'Ｔシャツ' → 'tシャツ'. Marks on
    Devanagari and kana are kept: there they are vowels or voicing, not accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and ord(kept[-1]) < 0x0530:  # Latin, Greek, Cyrillic bases
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@dataclass(frozen=True, slots=True)
class Match:
    """``label`` of ``attribute`` named by ``words`` (as found in the folded text), at character ``start``."""

    attribute: str
    label: str
    words: str
    start: int
    length: int


@dataclass(frozen=True, slots=True)
class _Phrase:
    parts: tuple[str, ...]
    stems: tuple[bool, ...]  # part i takes any ending
    attribute: str
    label: str

    def matches(self, tokens: list[str], at: int) -> bool:
        if at + len(self.parts) > len(tokens):
            return False
        for part, stem, token in zip(self.parts, self.stems, tokens[at:at + len(self.parts)], strict=True):
            if not (token.startswith(part) if stem else token == part):
                return False
        return True


class WordTable:
    """Every attribute's words, compiled once: a text in, the labels its words name out."""

    def __init__(self, words: dict[str, dict[str, list[str]]]) -> None:
        """``words``: attribute → label → words (any language)."""
        self._exact: dict[str, list[_Phrase]] = defaultdict(list)  # first part → phrases
        self._stems: dict[str, list[_Phrase]] = defaultdict(list)
        spaceless: dict[str, tuple[str, str]] = {}
        for attribute, labels in words.items():
            for label, entries in labels.items():
                for entry in entries:
                    self._add(entry, attribute, label, spaceless)
        self._longest_stem = max((len(stem) for stem in self._stems), default=0)
        # Longest first: at one position "ビーチサンダル" (flip-flops) wins over "サンダル" (sandals).
        # One pattern per attribute, so that "スポーツジャケット" is both a usage (Sports) and a category.
        self._spaceless = spaceless
        by_attribute: dict[str, list[str]] = defaultdict(list)
        for word in sorted(spaceless, key=len, reverse=True):
            by_attribute[spaceless[word][0]].append(word)
        self._spaceless_patterns = [re.compile("|".join(map(_spaceless_word, ordered)))
                                    for ordered in by_attribute.values()]

    def _add(self, entry: str, attribute: str, label: str, spaceless: dict[str, tuple[str, str]]) -> None:
        folded = fold(entry).strip()
        if _SPACELESS.search(folded):
            spaceless[folded.replace("*", "")] = (attribute, label)
            return
        parts: list[str] = []
        stems: list[bool] = []
        for piece in folded.split():
            found = _TOKEN.findall(piece)
            if not found:
                continue
            parts += found
            stems += [False] * (len(found) - 1) + [piece.endswith("*") and len(found[-1]) >= MIN_STEM]
        if not parts:
            return
        phrase = _Phrase(tuple(parts), tuple(stems), attribute, label)
        (self._stems if stems[0] else self._exact)[parts[0]].append(phrase)

    def find(self, text: str) -> list[Match]:
        """Every word of the table in ``text``, in the order they appear; where several words of one attribute
        start at one place, the longest only."""
        folded = fold(text)
        found: list[Match] = []
        spans = [(m.start(), m.group()) for m in _TOKEN.finditer(folded)]
        tokens = [token for _, token in spans]
        for at, (start, token) in enumerate(spans):
            candidates = list(self._exact.get(token, ()))
            for size in range(MIN_STEM, min(len(token), self._longest_stem) + 1):
                candidates += self._stems.get(token[:size], ())
            longest: dict[str, _Phrase] = {}  # per attribute: "спортивный костюм" is a set and a usage
            for phrase in candidates:
                known = longest.get(phrase.attribute)
                if (known is None or len(phrase.parts) > len(known.parts)) and phrase.matches(tokens, at):
                    longest[phrase.attribute] = phrase
            for phrase in longest.values():
                end_start, end_token = spans[at + len(phrase.parts) - 1]
                length = end_start + len(end_token) - start
                found.append(Match(phrase.attribute, phrase.label, folded[start:start + length], start, length))
        if self._spaceless_patterns and _SPACELESS.search(folded):
            for pattern in self._spaceless_patterns:
                for hit in pattern.finditer(folded):
                    attribute, label = self._spaceless[hit.group()]
                    found.append(Match(attribute, label, hit.group(), hit.start(), len(hit.group())))
            found.sort(key=lambda match: (match.start, -match.length))
        return found


def _spaceless_word(word: str) -> str:
    """A katakana word must end where the katakana does: "ドレス" (dress) is not in the brand "ドレステリア"."""
    return re.escape(word) + (_KATAKANA_GOES_ON if _KATAKANA.fullmatch(word[-1]) else "")


def load_words(attribute: str) -> dict[str, list[str]]:
    """label → every word for it, all languages together, from ``<attribute>.toml``."""
    text = files(__package__).joinpath(f"{attribute}.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    return {label: [word for words in languages.values() for word in words] for label, languages in table.items()}


@functools.cache
def word_table() -> WordTable:
    """The table of every attribute's words (built on first use: a few milliseconds)."""
    from catalog.vocabulary.vocabulary import ATTRIBUTES

    return WordTable({attribute: load_words(attribute) for attribute in ATTRIBUTES})
