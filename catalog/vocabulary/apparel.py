"""Is a product clothing or shoes, the goods the heads were trained on? For coverage reports and checks.

The taxonomy decides where it says: "Apparel & Accessories > Clothing" and "> Shoes" are apparel, any other
node is not (mugs, toys, jewellery, bags). A product the feed labels with a kind (a category or sub_category
from its product_type or title) is apparel unless the taxonomy says otherwise. A product filed under clothing
whose product_type or title names an accessory and no garment (a bag, a tie) is not.
"""

from __future__ import annotations

import functools

from catalog.product import Product
from catalog.vocabulary.labels import FeedLabel, feed_labels
from catalog.vocabulary.taxonomy import google_taxonomy
from catalog.vocabulary.words import WordTable, load_words


@functools.cache
def _accessories() -> WordTable:
    return WordTable({"accessory": load_words("accessory")})


def is_apparel(product: Product, labels: dict[str, FeedLabel] | None = None) -> bool:
    """``labels``: the product's :func:`feed_labels`, where the caller has them already. Never raises."""
    try:
        taxonomy = google_taxonomy()
        if taxonomy.names_other_goods(product.google_product_category):
            return False
        found = feed_labels(product) if labels is None else labels
        if "category" in found or "sub_category" in found:
            return True
        node = taxonomy.find(product.google_product_category)
        if node is None or not node.is_apparel:
            return False
        text = f"{product.product_type or ''} \n {product.title or ''}"
        return not _accessories().find(text)
    except Exception:  # a report's guess, never worth stopping for
        return False
