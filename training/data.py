"""Labelled catalogs for training: the sample's styles.csv or a product feed whose columns carry the labels."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from catalog import read_feed
from catalog.product import Product
from recommender.attributes import PRODUCT_LABELS

from .sample import load_styles, split_holdout, styles_to_products

log = logging.getLogger(__name__)

# What the heads learn. sub_category is an auxiliary target (the category hierarchy).
ATTRIBUTES = ("category", "colour", "gender", "usage", "sub_category")


class _Stratum:
    """Adapter so that :func:`split_holdout` (which stratifies StyleRows by article type) splits products."""

    __slots__ = ("article_type", "id", "product")

    def __init__(self, product: Product) -> None:
        self.product, self.id, self.article_type = product, product.id, PRODUCT_LABELS["category"](product)


def load_labelled(path: Path) -> list[Product]:
    """Products with local images and labels, from a styles.csv (``images/`` beside it) or a feed file."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    if "articleType" in header:
        products = styles_to_products(load_styles(path), path.parent / "images")
    else:
        report = read_feed(path)
        products = report.products
        if report.skipped:
            log.warning("%s: %d rows skipped", path, len(report.skipped))
    remote = [product.id for product in products if not Path(product.image_link).is_file()]
    if remote:
        raise ValueError(f"{path}: {len(remote)} products have no local image (first: {remote[0]}); training "
                         f"reads local files only — build the index once to fill the image cache, or use local paths")
    unlabelled = sum(not PRODUCT_LABELS["category"](product) for product in products)
    if unlabelled:
        log.warning("%s: %d products have no category label; they train only the other heads", path, unlabelled)
    return products


def load_rgb(path: str | Path) -> Image.Image:
    """A product image (a catalog packshot) from disk, as RGB."""
    with Image.open(path) as source:
        return source.convert("RGB")


def split(products: Sequence[Product], fraction: float, seed: int) -> tuple[list[Product], list[Product]]:
    """Stratified by category, every category with two or more items on both sides (:func:`split_holdout`)."""
    first, second = split_holdout([_Stratum(product) for product in products], fraction, seed)
    return [row.product for row in first], [row.product for row in second]


def vocabularies(products: Sequence[Product], min_count: int = 2,
                 attributes: Sequence[str] = ATTRIBUTES) -> dict[str, list[str]]:
    """Each attribute's labels with at least ``min_count`` training items, sorted; rarer labels are dropped
    from that head (those items still train the other heads and the projection) — a class seen once
    cannot be learned honestly, and guessing it would be noise."""
    vocab = {}
    for attribute in attributes:
        counts = Counter(PRODUCT_LABELS[attribute](product) for product in products)
        counts.pop("", None)
        kept = sorted(label for label, count in counts.items() if count >= min_count)
        dropped = sorted(label for label, count in counts.items() if count < min_count)
        if dropped:
            log.info("%s: %d rare labels left out of the head: %s", attribute, len(dropped), ", ".join(dropped))
        if len(kept) >= 2:
            vocab[attribute] = kept
    return vocab
