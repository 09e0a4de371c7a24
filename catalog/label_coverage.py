"""How much of the heads' vocabulary a feed gives on its own, as `fashionbot catalog check` reports it.

Counted over the products that are clothing or shoes (:func:`catalog.vocabulary.is_apparel`): a mug or a
bag has no category to find. For each attribute: how many of those got a label from the feed, and from which
field. Products without one are labelled from their images at build time (`index info` tells).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.product import Product
from catalog.vocabulary import ATTRIBUTES, feed_labels, is_apparel

KIND = ("category", "sub_category")  # either one says what kind of garment it is


@dataclass(frozen=True, slots=True)
class LabelCoverage:
    """``labelled``: attribute → apparel products with a feed label; ``sources``: attribute → field → count;
    ``kind``: apparel products with a category or a sub_category."""

    products: int
    apparel: int
    kind: int
    labelled: dict[str, int] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)

    def share(self, count: int) -> float:
        return count / self.apparel if self.apparel else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "products": self.products,
            "apparel": self.apparel,
            "kind": {"labelled": self.kind, "coverage": round(self.share(self.kind), 4)},
            "attributes": {
                attribute: {"labelled": count, "coverage": round(self.share(count), 4),
                            "none": self.apparel - count, "from": self.sources.get(attribute, {})}
                for attribute, count in self.labelled.items()
            },
        }

    def lines(self) -> list[str]:
        """The report's section: a line per attribute, the fields its labels came from."""
        if not self.apparel:
            return [f"labels from the feed: none of the {self.products} products is clothing or shoes by its "
                    "google_product_category, product_type or title"]
        head = (f"labels from the feed, over the {self.apparel} product{'' if self.apparel == 1 else 's'} "
                f"that are clothing or shoes (of {self.products}):")
        width = max(len("attribute"), *(len(name) for name in self.labelled))
        lines = [head, f"{'attribute':<{width}}  {'labelled':>8}  coverage  from"]
        for attribute, count in self.labelled.items():
            sources = ", ".join(f"{name} {n}" for name, n in self.sources.get(attribute, {}).items()) or "-"
            lines.append(f"{attribute:<{width}}  {count:>8}  {self.share(count):>8.1%}  {sources}")
        lines.append(f"{'kind':<{width}}  {self.kind:>8}  {self.share(self.kind):>8.1%}  (category or sub_category)")
        lines.append("products without a label get one from their images when the index is built")
        return lines


def label_coverage(products: Iterable[Product]) -> LabelCoverage:
    """What :func:`~catalog.vocabulary.feed_labels` finds in ``products``, counted as described above."""
    total = apparel = kind = 0
    labelled: Counter[str] = Counter()
    sources: dict[str, Counter[str]] = {attribute: Counter() for attribute in ATTRIBUTES}
    for product in products:
        total += 1
        labels = feed_labels(product)
        if not is_apparel(product, labels):
            continue
        apparel += 1
        kind += any(attribute in labels for attribute in KIND)
        for attribute, label in labels.items():
            labelled[attribute] += 1
            sources[attribute][label.feed_field or "feed"] += 1
    return LabelCoverage(total, apparel, kind, {attribute: labelled[attribute] for attribute in ATTRIBUTES},
                         {attribute: dict(counts.most_common()) for attribute, counts in sources.items()})
