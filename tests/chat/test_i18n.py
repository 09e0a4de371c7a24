"""The user's language: every message translated in every catalog, placeholders kept, the right catalog picked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from chat import i18n

REPO = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
TRANSLATED = [code for code in i18n.languages() if code != i18n.SOURCE_LANGUAGE]


def in_code() -> set[tuple[str | None, str]]:
    """(context, message) of every text marked in the code, as `make translations` extracts them."""
    found = set()
    for folder in ("chat", "bot"):
        for _, _, message, _, context in extract_from_dir(REPO / folder, keywords=KEYWORDS):
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


def catalog(code: str):
    with (i18n.LOCALES / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as file:
        return read_po(file, locale=code)


def test_at_least_russian_and_hindi_are_there() -> None:
    assert {"en", "ru", "hi"} <= set(i18n.languages())


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_has_a_translation(code: str) -> None:
    translated = {(m.context, m.id) for m in catalog(code) if m.id and m.string and not m.fuzzy}
    missing = sorted(in_code() - translated, key=str)
    assert missing == [], f"{code}: run `make translations` and translate these"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_every_placeholder(code: str) -> None:
    wrong = [m.id for m in catalog(code) if m.id and m.string
             and set(re.findall(r"{\w+}", m.id)) != set(re.findall(r"{\w+}", m.string))]
    assert wrong == []


def test_the_template_lists_what_the_code_marks() -> None:
    with (i18n.LOCALES / f"{i18n.DOMAIN}.pot").open("rb") as file:
        template = {(m.context, m.id) for m in read_po(file) if m.id}
    assert template == in_code(), "run `make translations`"


@pytest.mark.parametrize(("code", "expected"), [
    ("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("hi", "hi"), ("hi_IN", "hi"), ("en-US", "en"),
    ("pt-br", "en"), ("", "en"), (None, "en"), ("not a language!", "en"),
])
def test_the_language_is_picked_from_the_clients_code(code: str | None, expected: str) -> None:
    assert i18n.pick(code) == expected


@pytest.mark.parametrize(("code", "message", "expected"), [
    ("ru", "Start over", "Заново"),
    ("hi", "Start over", "फिर से शुरू"),
    ("en", "Start over", "Start over"),
    ("fr", "Start over", "Start over"),
])
def test_messages_come_out_translated(code: str, message: str, expected: str) -> None:
    assert i18n.language(code)._(message) == expected


@pytest.mark.parametrize(("code", "amount", "currency", "expected"), [
    ("en", 2000.0, "INR", "₹2,000"),
    ("en", 49.9, "EUR", "€49.90"),
    ("ru", 2000.0, "RUB", "2\xa0000\xa0₽"),
    ("hi", 1500.0, "INR", "₹1,500"),
    ("en", 12.5, None, "12.5"),
])
def test_prices_are_written_as_the_language_writes_them(code: str, amount: float, currency: str | None,
                                                        expected: str) -> None:
    assert i18n.language(code).price(amount, currency) == expected
