"""/style words → Filters, read from a table."""

from __future__ import annotations

import pytest

from chat.narrowing import describe, narrow, suggestions
from index import Filters
from recommender import Guess, Style

WOMEN = Filters(gender="women")


@pytest.mark.parametrize(("current", "text", "expected"), [
    (Filters(), "women", Filters(gender="women")),
    (Filters(), "Men", Filters(gender="men")),
    (Filters(), "ladies", Filters(gender="women")),
    (Filters(), "boys", Filters(gender="boys")),
    (Filters(), "girl", Filters(gender="girls")),
    (Filters(), "unisex", Filters(gender="unisex")),
    (Filters(), "red", Filters(color="red")),
    (Filters(), "navy blue", Filters(color="navy blue")),
    (Filters(), "gray", Filters(color="grey")),
    (Filters(), "formal", Filters(usage="formal")),
    (Filters(), "sport", Filters(usage="sports")),
    (Filters(), "smart casual", Filters(usage="smart casual")),
    (Filters(), "shoes", Filters(product_type="shoe")),
    (Filters(), "dress", Filters(product_type="dress")),
    (Filters(), "casual shoes", Filters(usage="casual", product_type="shoe")),
    (Filters(), "women, red party heels", Filters("women", "red", "heel", "party")),
    (WOMEN, "red", Filters(gender="women", color="red")),  # narrowing adds up
    (WOMEN, "men", Filters(gender="men")),  # … and a new value of a field replaces the old
    (Filters("women", "red", "shoe", "party"), "clear", Filters()),
    (WOMEN, " Reset ", Filters()),
    (WOMEN, "color=sea green", Filters(gender="women", color="sea green")),  # what buttons send
    (Filters(), "product_type=Casual Shoes", Filters(product_type="casual shoes")),
])
def test_words_narrow_the_filters(current: Filters, text: str, expected: Filters) -> None:
    assert narrow(current, text) == expected


@pytest.mark.parametrize(("filters", "text"), [
    (Filters(), "none"),
    (Filters(gender="women"), "women"),
    (Filters("women", "red", "shoe", "party"), "women · red · party · type: shoe"),
])
def test_describe(filters: Filters, text: str) -> None:
    assert describe(filters) == text


def test_suggestions_offer_each_recognised_value_not_already_filtered() -> None:
    style = Style(category=Guess("Casual Shoes", 0.6), colour=Guess("Sea Green", 0.5), gender=Guess("Men", 0.9),
                  usage=None)
    assert suggestions(style, Filters()) == [("men", "gender=men"), ("sea green", "color=sea green"),
                                            ("casual shoes", "product_type=casual shoes")]
    assert suggestions(style, Filters(gender="women")) == [("sea green", "color=sea green"),
                                                           ("casual shoes", "product_type=casual shoes")]
