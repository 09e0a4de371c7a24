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


# attribute → how a catalog product carries it ("" when it does not)
PRODUCT_LABELS: dict[str, Callable[[Product], str]] = {
    "category": article_type,
    "colour": lambda product: product.color or "",
    "gender": lambda product: product.gender or "",
    "usage": lambda product: product.extra.get("usage") or "",
    "sub_category": sub_category,
}
