"""A product's labels in the heads' vocabulary: what its feed says, reconciled with what its packshots show.

:func:`reconcile` is the decision, pure and tested from a table; :class:`ViewVotes` averages the heads'
probabilities over a product's images at build time (its views may arrive in any order, in any batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from catalog.product import Product
from catalog.vocabulary import ATTRIBUTES, PARENT, FeedLabel, feed_labels
from engine.attributes import Attributes

# The lowest top probability at which a packshot labels an attribute the feed leaves unlabelled. Measured with
# the shipped head (fashion-head-v3, packshot colour blended with the pixels' as built) on the 165 demo packshots
# held out of its training: the lowest probability where the top label is right for about 85 % of the packshots
# at or above it (category 0.83 of the 58 % it labels, sub-category 0.91 of 93 %, gender 0.88 of 83 %, usage
# 0.92 of 87 %; head v2's were within 0.04). Colour never gets there (the sample's colours are ambiguous): 0.7
# labels 44 % at 0.67, and above it precision hardly rises. A product left unlabelled loses only its re-rank bonus
# and type filters; a wrong label costs more.
IMAGE_FLOORS: dict[str, float] = {"category": 0.6, "sub_category": 0.5, "colour": 0.7, "gender": 0.6,
                                  "usage": 0.6}

Labels = dict[str, dict[str, Any]]


def reconcile(feed: Mapping[str, FeedLabel], image: Attributes | None, *,
              floor: Mapping[str, float] | float = IMAGE_FLOORS) -> tuple[Labels, Labels]:
    """(labels, conflicts) of one product, as ``Product.labels`` and ``Product.label_conflicts`` hold them.

    A feed label stands unless the image's top label differs with a higher probability than the feed label's
    confidence; where they differ and the image is sure (its probability clears ``floor``) or wins, the
    conflict is recorded. An attribute the feed does not name takes the image's top label when it clears the
    floor. The sub-category follows the category, so the two never disagree; without ``image`` (no head) the
    feed's labels are all there is.
    """
    floors = floor if isinstance(floor, Mapping) else dict.fromkeys(ATTRIBUTES, float(floor))
    labels: Labels = {}
    conflicts: Labels = {}
    for attribute in ATTRIBUTES:
        said = feed.get(attribute)
        seen = image.top(attribute) if image is not None else None
        sure = seen is not None and seen[1] >= floors.get(attribute, 1.0)
        if said is None:
            if seen is not None and sure:
                labels[attribute] = _from_image(*seen)
            continue
        if seen is None or seen[0] == said.value:
            labels[attribute] = _from_feed(said)
            continue
        image_wins = seen[1] > said.confidence
        labels[attribute] = _from_image(*seen, overruled=said) if image_wins else _from_feed(said)
        if image_wins or sure:
            conflicts[attribute] = _conflict(said.value, *seen, won="image" if image_wins else "feed")
    _keep_category_and_parent_together(labels, conflicts, feed)
    return labels, conflicts


def label_product(product: Product, image: Attributes | None) -> Product:
    """The product with its labels: its feed's reconciled with what its packshots show (``image``: their mean
    probabilities; None without a head)."""
    labels, conflicts = reconcile(feed_labels(product), image)
    return replace(product, labels=labels, label_conflicts=conflicts)


def _keep_category_and_parent_together(labels: Labels, conflicts: Labels, feed: Mapping[str, FeedLabel]) -> None:
    """The sub-category becomes the category's parent. An image's category whose parent contradicts a feed's
    sub-category at least as sure as it is left out instead (the feed's own category, if any, stands): a feed
    label is never overruled by a weaker one."""
    category = labels.get("category")
    parent = PARENT.get(category["value"]) if category else None
    if category is None or parent is None or labels.get("sub_category", {}).get("value") == parent:
        return
    said = feed.get("sub_category")
    if category["source"] == "image" and said is not None and said.value != parent:
        if said.confidence >= category["confidence"]:
            labels["sub_category"] = _from_feed(said)
            conflicts["sub_category"] = _conflict(said.value, parent, category["confidence"], won="feed")
            if "category" in feed:  # the feed's own category, weaker than the image's, fits its sub-category
                labels["category"] = _from_feed(feed["category"])
                conflicts["category"]["won"] = "feed"
            else:
                del labels["category"]
            return
        conflicts["sub_category"] = _conflict(said.value, parent, category["confidence"], won="image")
    labels["sub_category"] = {"value": parent, "source": category["source"], "confidence": category["confidence"],
                              "evidence": f"the parent of {category['value']}"}


def _from_feed(label: FeedLabel) -> dict[str, Any]:
    return {"value": label.value, "source": "feed", "confidence": round(float(label.confidence), 3),
            "evidence": label.evidence}


def _from_image(value: str, probability: float, overruled: FeedLabel | None = None) -> dict[str, Any]:
    evidence = "the packshot" + (f" (the feed said {overruled.value}: {overruled.evidence})" if overruled else "")
    return {"value": value, "source": "image", "confidence": round(float(probability), 3), "evidence": evidence}


def _conflict(feed_value: str, image_value: str, probability: float, *, won: str) -> dict[str, Any]:
    return {"feed": feed_value, "image": image_value, "image_confidence": round(float(probability), 3), "won": won}


class ViewVotes:
    """The heads' probabilities summed over each product's images, so a product is labelled by all of its
    views alike, whichever batch each came in. One row of floats per product: little beside its vectors."""

    def __init__(self, vocabularies: Mapping[str, Sequence[str]]) -> None:
        self.vocabularies = {name: list(labels) for name, labels in vocabularies.items()}
        self.width = sum(len(labels) for labels in self.vocabularies.values())
        self._sums: dict[str, np.ndarray] = {}
        self._views: dict[str, int] = {}

    def row(self, attributes: Attributes) -> np.ndarray:
        """One image's probabilities as the flat row the votes keep (what a Ray worker sends back)."""
        return np.fromiter((attributes.probabilities.get(name, {}).get(label, 0.0)
                            for name, labels in self.vocabularies.items() for label in labels),
                           dtype=np.float32, count=self.width)

    def add(self, product_id: str, attributes: Attributes | np.ndarray) -> None:
        row = self.row(attributes) if isinstance(attributes, Attributes) else np.array(attributes, np.float32)
        if product_id in self._sums:
            self._sums[product_id] += row
        else:
            self._sums[product_id] = row
        self._views[product_id] = self._views.get(product_id, 0) + 1

    def views(self, product_id: str) -> int:
        return self._views.get(product_id, 0)

    def mean(self, product_id: str) -> Attributes | None:
        """The product's views' mean probabilities; None when none of its images was labelled."""
        if product_id not in self._sums:
            return None
        row = self._sums[product_id] / self._views[product_id]
        probabilities, start = {}, 0
        for name, labels in self.vocabularies.items():
            probabilities[name] = {label: float(p) for label, p in zip(labels, row[start:start + len(labels)],
                                                                       strict=True)}
            start += len(labels)
        return Attributes(probabilities)
