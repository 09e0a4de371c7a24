"""The attributes a product is labelled with — one definition shared by training, re-ranking and evaluation."""

from __future__ import annotations

from collections.abc import Callable

from catalog.product import Product


def article_type(product: Product) -> str:
    """The leaf category: the feed's ``article_type`` column, else the last part of ``product_type``."""
    return product.extra.get("article_type") or (product.product_type or "").split(">")[-1].strip()


def sub_category(product: Product) -> str:
    """The category's parent in ``product_type`` ("Footwear > Shoes > Casual Shoes" → "Shoes")."""
    parts = [part.strip() for part in (product.product_type or "").split(">")]
    return parts[-2] if len(parts) >= 2 else ""


def _normalised_first(attribute: str, shop_text: Callable[[Product], str]) -> Callable[[Product], str]:
    """The product's label in the heads' vocabulary when its build gave it one (any shop's words), else what
    its own text says (the demo catalog's words are the heads', so it reads the same either way)."""
    return lambda product: product.label(attribute) or shop_text(product)


# attribute → how a catalog product carries it ("" when it does not)
PRODUCT_LABELS: dict[str, Callable[[Product], str]] = {
    "category": _normalised_first("category", article_type),
    "colour": _normalised_first("colour", lambda product: product.color or ""),
    "gender": _normalised_first("gender", lambda product: product.gender or ""),
    "usage": _normalised_first("usage", lambda product: product.extra.get("usage") or ""),
    "sub_category": _normalised_first("sub_category", sub_category),
    # What a garment region's prior (recommender/regions.py) is over: the product's kind, its sub_category.
    "prior": _normalised_first("sub_category", sub_category),
}
