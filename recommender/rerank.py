"""Re-ranking: visual similarity plus agreement of a photo's predicted attributes with each product's labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from engine.attributes import Attributes
from engine.runtime import HeadInfo
from index import CatalogIndex, Filters, SearchHit

from .attributes import PRODUCT_LABELS

# How many nearest neighbours are re-ranked, whatever the page asked for, so pages stay consistent.
RERANK_POOL = 100


def rerank(hits: Sequence[SearchHit], attributes: Attributes, weights: Mapping[str, float],
           keep_top: int = 0) -> list[SearchHit]:
    """Hits re-ordered by ``similarity + Σ weight × P(photo shows the product's label)``, ranks renumbered.

    A product without a label for an attribute, or with one the head does not know, gains nothing for it.
    The first ``keep_top`` hits keep their places: the visually closest product is most often the very one
    photographed, and a wrong attribute guess should not push it down. Each hit's ``score`` becomes the score
    it is ranked by (a kept hit scores at least as high as everything below it, so scores descend), and its
    ``similarity`` stays the visual cosine.
    """
    def boosted(hit: SearchHit) -> float:
        bonus = 0.0
        for attribute, weight in weights.items():
            probabilities = attributes.probabilities.get(attribute)
            if weight and probabilities:
                bonus += weight * probabilities.get(PRODUCT_LABELS[attribute](hit.product), 0.0)
        return hit.similarity + bonus

    rest = sorted(((boosted(hit), hit) for hit in hits[keep_top:]), key=lambda pair: pair[0], reverse=True)
    floor = rest[0][0] if rest else float("-inf")
    kept = [(max(boosted(hit), floor), hit) for hit in hits[:keep_top]]
    for position in range(len(kept) - 2, -1, -1):  # earlier kept hits outrank later ones too
        kept[position] = (max(kept[position][0], kept[position + 1][0]), kept[position][1])
    return [replace(hit, score=score, rank=rank) for rank, (score, hit) in enumerate(kept + rest)]


@dataclass(frozen=True)
class RerankPolicy:
    """The re-rank weights and kept top hits that a head's training chose on validation."""

    weights: dict[str, float] = field(default_factory=dict)
    keep_top: int = 0

    @classmethod
    def of(cls, head: HeadInfo | None, enabled: bool = True) -> RerankPolicy | None:
        if head is None or not enabled:
            return None
        weights = {name: weight for name, weight in head.training.get("rerank", {}).items() if weight}
        return cls(weights, int(head.training.get("rerank_keep_top", 0))) if weights else None


def ranked_search(index: CatalogIndex, vector: np.ndarray, attributes: Attributes | None, k: int, offset: int = 0,
                  filters: Filters | None = None, policy: RerankPolicy | None = None) -> list[SearchHit]:
    """One photo's hits ``offset .. offset+k``, re-ranked by its predicted attributes when there is a policy.

    Only the nearest ``RERANK_POOL`` are re-ordered and the rest keep their visual order, so every page
    sees the same ranking and paging neither repeats nor skips an item, however deep it goes.
    """
    if attributes is None or policy is None:
        return index.search(vector[None, :], k, offset, filters)[0]
    hits = index.search(vector[None, :], max(RERANK_POOL, offset + k), 0, filters)[0]
    ranked = rerank(hits[:RERANK_POOL], attributes, policy.weights, policy.keep_top) + hits[RERANK_POOL:]
    return ranked[offset:offset + k]
