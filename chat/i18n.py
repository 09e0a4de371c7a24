"""The user's language: gettext catalogs read with Babel, chosen from Telegram's language_code or Discord's locale.

Every text a user reads is an English message marked for extraction (``lang._("…")`` where it is shown,
``N_("…")`` where it is defined); its translations live in ``chat/locales/<lang>/LC_MESSAGES/fashionbot.po``.
A catalog is compiled from its .po when a language is first used, so a translator edits one text file and
never code (docs/TRANSLATING.md). English needs no catalog: the messages are English.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, list_currencies
from babel.support import NullTranslations, Translations

DOMAIN = "fashionbot"
LOCALES = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:  # noqa: N802 — gettext's name for "mark now, translate where shown"
    return message


def NP_(context: str, message: str) -> tuple[str, str]:  # noqa: N802
    """A message with a context (``pgettext``), marked now and translated where shown."""
    return context, message


def languages() -> tuple[str, ...]:
    """English and every language with a catalog, e.g. ('en', 'hi', 'ru')."""
    found = {path.parent.parent.name for path in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return (SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE}))


def pick(code: str | None) -> str:
    """The language to answer in for a client's code: 'ru-RU' or 'ru' → 'ru', 'pt-br' (no catalog) → 'en'."""
    if not code:
        return SOURCE_LANGUAGE
    try:
        wanted = Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return SOURCE_LANGUAGE
    return wanted.language if wanted.language in languages() else SOURCE_LANGUAGE


@dataclass(frozen=True, eq=False)
class Language:
    """One language's translations and number formats; get one with :func:`language`."""

    code: str
    translations: NullTranslations
    locale: Locale

    def _(self, message: str, **values: object) -> str:
        """The translation of ``message``, its ``{placeholders}`` filled from ``values``."""
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    def p_(self, context: str, message: str) -> str:
        return str(self.translations.pgettext(context, message))

    def price(self, amount: float, currency: str | None) -> str:
        """'₹2,000', '2 000 ₽', '€49.90' as this language writes it; a bare number without a currency."""
        if currency and currency in CURRENCIES:
            pattern = self.locale.currency_formats["standard"].pattern
            if float(amount).is_integer():  # '₹2,000', not '₹2,000.00'
                pattern = pattern.replace(".00", "")
            return format_currency(amount, currency, format=pattern, locale=self.locale, currency_digits=False)
        return format_decimal(amount, locale=self.locale)


CURRENCIES = frozenset(list_currencies())


def language(code: str | None) -> Language:
    """The :class:`Language` for a client's code (see :func:`pick`), its catalog compiled on first use."""
    return _language(pick(code))


@functools.cache  # one entry per language with a catalog
def _language(code: str) -> Language:
    return Language(code, _translations(code), Locale.parse(code))


def _translations(code: str) -> NullTranslations:
    path = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == SOURCE_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as file:
        catalog = read_po(file, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
