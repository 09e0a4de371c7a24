"""Plain words → refinements, read from tables: every word family, in each language, and how they combine."""

from __future__ import annotations

import pytest

from chat.describe import describe
from chat.i18n import language
from chat.refine import Refinement, fold, parse, refined, relaxations, tokens, vocabulary
from index import CatalogLabels, Filters

LABELS = CatalogLabels(
    gender=("boys", "girls", "men", "unisex", "women"), color=("black", "navy blue", "red", "sea green", "white"),
    product_type=("apparel > topwear > shirts", "apparel > topwear > tshirts", "footwear > sandal > sandals",
                  "footwear > shoes > casual shoes", "footwear > shoes > heels", "footwear > shoes > sports shoes"),
    usage=("casual", "formal", "smart casual", "sports"), brand=("acme", "puma"), currencies=("INR", "EUR"))
SNEAKERS = "footwear > shoes > casual shoes|footwear > shoes > sports shoes"
SANDALS = ("product_type", "footwear > sandal")


def read(text: str, code: str = "en", current: Filters | None = None) -> tuple[Filters, Refinement]:
    refinement = parse(text, vocabulary(language(code), LABELS))
    return refined(current or Filters(), refinement, "INR"), refinement


@pytest.mark.parametrize(("code", "text", "expected"), [
    # colour, gender, usage, product type, brand: synonyms, plurals, case and accents folded
    ("en", "in red", Filters(color="red")),
    ("en", "REDDISH", Filters(color="red")),
    ("en", "gray", Filters(color="grey")),
    ("en", "sea green", Filters(color="sea green")),  # a label only this catalog has
    ("en", "for women", Filters(gender="women")),
    ("en", "ladies", Filters(gender="women")),
    ("en", "men's", Filters(gender="men")),
    ("en", "like this but formal", Filters(usage="formal")),
    ("en", "smart casual", Filters(usage="smart casual")),
    ("en", "sneakers only", Filters(product_type=SNEAKERS)),
    ("en", "Trainers", Filters(product_type=SNEAKERS)),
    ("en", "T-Shirts", Filters(product_type="apparel > topwear > tshirts")),
    ("en", "shirts", Filters(product_type="apparel > topwear > shirts")),  # not the T-shirts
    ("en", "shoes", Filters(product_type="footwear > shoes")),
    ("en", "by Puma", Filters(brand="puma")),
    ("en", "Crème", Filters(color="cream")),
    ("en", "red or white", Filters(color="red|white")),
    ("ru", "красные", Filters(color="red")),
    ("ru", "ЧЁРНЫЕ", Filters(color="black")),
    ("ru", "для женщин", Filters(gender="women")),
    ("ru", "как это, но деловое", Filters(usage="formal")),
    ("ru", "только кроссовки", Filters(product_type=SNEAKERS)),
    ("ru", "sneakers", Filters(product_type=SNEAKERS)),  # English words work in every language
    ("hi", "लाल", Filters(color="red")),
    ("hi", "महिलाओं के लिए", Filters(gender="women")),
    ("hi", "सिर्फ़ स्नीकर्स", Filters(product_type=SNEAKERS)),
])
def test_words_name_labels(code: str, text: str, expected: Filters) -> None:
    assert read(text, code)[0] == expected


@pytest.mark.parametrize(("code", "text"), [
    ("en", "no sandals"), ("en", "without sandals"), ("en", "not sandals"),
    ("ru", "без сандалий"), ("hi", "सैंडल नहीं"), ("hi", "बिना सैंडल"),
])
def test_exclusions(code: str, text: str) -> None:
    assert read(text, code)[0] == Filters(excluded=(SANDALS,))


@pytest.mark.parametrize(("code", "text", "low", "high", "currency"), [
    ("en", "under 2000", None, 2000.0, "INR"),
    ("en", "below 1,500", None, 1500.0, "INR"),
    ("en", "up to 2k", None, 2000.0, "INR"),
    ("en", "< 300", None, 300.0, "INR"),
    ("en", "over 500", 500.0, None, "INR"),
    ("en", "between 1000 and 2000", 1000.0, 2000.0, "INR"),
    ("en", "1000-2000", 1000.0, 2000.0, "INR"),
    ("en", "from 10 to 20", 10.0, 20.0, "INR"),
    ("en", "under €50", None, 50.0, "EUR"),
    ("en", "cheaper than 50 euros", None, 50.0, "EUR"),
    ("en", "under 40 eur", None, 40.0, "EUR"),
    ("en", "under 12,99", None, 12.99, "INR"),
    ("ru", "до 2000", None, 2000.0, "INR"),
    ("ru", "дешевле 2000 рублей", None, 2000.0, "RUB"),
    ("ru", "от 1000 до 2000", 1000.0, 2000.0, "INR"),
    ("hi", "2000 से कम", None, 2000.0, "INR"),
    ("hi", "2000 तक", None, 2000.0, "INR"),
    ("hi", "कम से कम 500", 500.0, None, "INR"),
])
def test_price_bounds(code: str, text: str, low: float | None, high: float | None, currency: str) -> None:
    filters, _ = read(text, code)
    assert (filters.min_price, filters.max_price, filters.currency) == (low, high, currency)


@pytest.mark.parametrize(("code", "text", "sort", "reset", "cheaper"), [
    ("en", "sort by price", "price", False, False),
    ("en", "cheapest first", "price", False, False),
    ("en", "most similar", "similarity", False, False),
    ("en", "start over", None, True, False),
    ("en", "cheaper", None, False, True),
    ("ru", "по цене", "price", False, False),
    ("ru", "заново", None, True, False),
    ("ru", "дешевле", None, False, True),
    ("hi", "कीमत के हिसाब से", "price", False, False),
    ("hi", "फिर से शुरू", None, True, False),
    ("hi", "सस्ता", None, False, True),
])
def test_order_reset_and_cheaper(code: str, text: str, sort: str | None, reset: bool, cheaper: bool) -> None:
    refinement = read(text, code)[1]
    assert (refinement.sort, refinement.reset, refinement.cheaper) == (sort, reset, cheaper)


def test_unknown_words_are_reported_and_nothing_else_is_understood() -> None:
    refinement = read("xyzzy 2000")[1]
    assert not refinement and refinement.unknown == ("xyzzy", "2000")
    partly = read("red xyzzy")[1]
    assert partly and partly.unknown == ("xyzzy",)


def test_refinements_combine_and_start_over_clears_them() -> None:
    filters, _ = read("for women")
    filters, _ = read("in red", current=filters)
    filters, _ = read("no sandals", current=filters)
    filters, _ = read("under 2000", current=filters)
    assert filters == Filters(gender="women", color="red", max_price=2000.0, currency="INR", excluded=(SANDALS,))
    filters, _ = read("in black", current=filters)  # a new colour replaces the old one
    assert filters.color == "black" and filters.gender == "women"
    filters, _ = read("sandals", current=filters)  # asking for what was excluded lifts the exclusion
    assert filters.excluded == () and filters.product_type == "footwear > sandal"
    assert read("start over", current=filters)[0] == Filters()
    assert read("start over", current=Filters(color="red", collection="summer"))[0] == Filters(collection="summer")


def test_relaxations_give_up_the_price_cap_first() -> None:
    filters = Filters(color="red", max_price=100.0, excluded=(SANDALS,))
    assert relaxations(filters) == [Filters(color="red", excluded=(SANDALS,)),
                                    Filters(color="red", max_price=100.0), Filters(max_price=100.0,
                                                                                   excluded=(SANDALS,))]


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "women · red · up to ₹2,000 · not: sandals · cheapest first"),
    ("ru", "женский · красный · до 2\xa0000\xa0₹ · кроме: сандалии · сначала дешёвые"),
    ("hi", "महिला · लाल · ₹2,000 तक · सैंडल नहीं · पहले सबसे सस्ते"),
])
def test_filters_are_described_in_the_users_words(code: str, expected: str) -> None:
    filters = Filters(gender="women", color="red", max_price=2000.0, currency="INR", excluded=(SANDALS,))
    assert describe(language(code), filters, "price") == expected


def test_folding_and_tokens() -> None:
    assert fold("Crème ЁЛКА") == "creme елка"
    assert tokens("लड़कियों के लिए, 2,000₹") == ["लड़कियों", "के", "लिए", "2,000", "₹"]


def test_filters_read_back_from_json_stay_hashable() -> None:
    assert hash(Filters(excluded=[["color", "red"]])) == hash(Filters(excluded=(("color", "red"),)))
