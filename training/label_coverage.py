"""Where products' labels come from, counted for `fashionbot eval`: per attribute, from the feed, from the image,
or neither; for catalogs labelled as a build labels them and, from the feed alone, for real shops' feeds.

A real feed's images are URLs, and evaluation runs offline, so its image column stays empty: what a build adds
from the packshots is measured on the sample, whose images are local.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from catalog.feed import read_feed
from catalog.label_coverage import label_coverage
from catalog.product import Product
from recommender.attributes import PRODUCT_LABELS

COUNTED = ("category", "sub_category", "colour", "gender")
SOURCES = ("feed", "image", "none")
FEED_SUFFIXES = (".csv", ".tsv", ".txt", ".xml")
TARGET = 0.9  # issue 19: labelled from the feed or the image for at least 90 % of a feed's apparel products


@dataclass(frozen=True)
class Coverage:
    """One catalog's label sources: attribute → source → products. ``images`` is False where its images could
    not be looked at (a real feed, offline), so "none" there means "not from the feed"."""

    name: str
    products: int
    apparel: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    images: bool = True
    right: dict[str, int] | None = None  # attribute → labels that agree with the truth, where it is known

    def labelled(self, attribute: str) -> int:
        counts = self.counts.get(attribute, {})
        return counts.get("feed", 0) + counts.get("image", 0)

    def labelled_share(self, attribute: str) -> float:
        return self.labelled(attribute) / max(self.apparel, 1)


def label_sources(products: Iterable[Product]) -> dict[str, dict[str, int]]:
    """attribute → how many of ``products`` got it from the feed, from the image, or not at all."""
    counts = {attribute: Counter[str]() for attribute in COUNTED}
    for product in products:
        for attribute in COUNTED:
            counts[attribute][(product.labels.get(attribute) or {}).get("source") or "none"] += 1
    return {attribute: {source: counter.get(source, 0) for source in SOURCES} for attribute, counter in counts.items()}


def catalog_coverage(name: str, products: Sequence[Product], truth: Sequence[Product]) -> Coverage:
    """A labelled catalog's coverage (every product counted: the sample is all apparel and footwear), and how
    many of its labels agree with ``truth`` (the same products as the sample labels them)."""
    right = {attribute: sum(product.label(attribute) == PRODUCT_LABELS[attribute](true)
                            for product, true in zip(products, truth, strict=True)) for attribute in COUNTED}
    return Coverage(name, len(products), len(products), label_sources(products), right=right)


def feed_coverage(path: Path) -> Coverage:
    """A feed's coverage from its own text, as `fashionbot catalog check` counts it (its apparel products)."""
    found = label_coverage(read_feed(path).products)
    counts = {attribute: {"feed": found.labelled.get(attribute, 0), "image": 0,
                          "none": found.apparel - found.labelled.get(attribute, 0)} for attribute in COUNTED}
    return Coverage(path.name, found.products, found.apparel, counts, images=False)


def real_feeds_coverage(directory: Path) -> list[Coverage]:
    return [feed_coverage(path) for path in sorted(Path(directory).iterdir()) if path.suffix in FEED_SUFFIXES]


def coverage_table(rows: Sequence[Coverage]) -> str:
    """Markdown: one row per catalog and attribute, with the share labelled from the feed or the image (✓: the
    issue's target, 90 %, reached) and, where the truth is known, the share of those labels that are right."""
    lines = ["| catalog | products (apparel) | attribute | from the feed | from the image | neither | labelled | "
             "right |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for attribute in COUNTED:
            counts = row.counts.get(attribute, {})
            share = row.labelled_share(attribute)
            labelled = (f"{share:.0%}{' ✓' if share >= TARGET else ''}{'' if row.images else ' (feed only)'}"
                        if row.apparel else "–")
            right = f"{row.right[attribute] / row.labelled(attribute):.0%}" if row.right and row.labelled(
                attribute) else "–"
            lines.append(f"| {row.name} | {row.products} ({row.apparel}) | {attribute} | {counts.get('feed', 0)} | "
                         f"{counts.get('image', 0) if row.images else 'not measured'} | {counts.get('none', 0)} | "
                         f"{labelled} | {right} |")
    return "\n".join(lines)
