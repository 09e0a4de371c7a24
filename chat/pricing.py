"""Prices in results: which currency a page is priced in, cheapest first, and what "cheaper" means.

Amounts are the feed's parsed ones (``Product.price_amount`` / ``price_currency``); amounts in different
currencies are never compared (there are no exchange rates offline), and a product without a price is never
shown as the cheapest.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from index import SearchHit


def main_currency(hits: Sequence[SearchHit]) -> str | None:
    """The currency most of the priced products are in (None when none names one)."""
    counts = Counter(hit.product.price_currency for hit in hits
                     if hit.product.price_amount is not None and hit.product.price_currency)
    return counts.most_common(1)[0][0] if counts else None


def amounts(hits: Sequence[SearchHit], currency: str | None) -> list[float]:
    """The prices of the products priced in ``currency`` (any, when None)."""
    return [hit.product.price_amount for hit in hits if hit.product.price_amount is not None
            and (currency is None or hit.product.price_currency == currency)]


def by_price(hits: Sequence[SearchHit], currency: str | None) -> list[SearchHit]:
    """Cheapest first in ``currency``; then the products priced in other currencies (each cheapest first), those
    whose currency is unknown after them; products without a price last. Equal prices keep their order."""
    def key(hit: SearchHit) -> tuple:
        product = hit.product
        if product.price_amount is None:
            return (2, True, "", 0.0, hit.rank)
        other = currency is not None and product.price_currency != currency
        return (int(other), product.price_currency is None, product.price_currency or "", product.price_amount,
                hit.rank)

    return sorted(hits, key=key)


def cheaper_cap(page_prices: Sequence[float], current_cap: float | None) -> float | None:
    """The price cap "cheaper" sets: the median of the prices just shown, below the dearest of them and below the
    cap already in force; None when the page shows no price to go below."""
    if not page_prices:
        return None
    ceiling = min(max(page_prices), current_cap) if current_cap is not None else max(page_prices)
    below = sorted(price for price in page_prices if price < ceiling)
    median = statistics.median_low(page_prices)
    if median < ceiling:
        return median
    return below[-1] if below else None
