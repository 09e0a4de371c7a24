"""Re-ranking: visual similarity plus agreement of a photo's predicted attributes with each product's labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from engine.heads import Attributes
from index import SearchHit

from .attributes import PRODUCT_LABELS

# How many nearest neighbours are re-ranked, whatever the page asked for, so pages stay consistent.
RERANK_POOL = 100


def rerank(hits: Sequence[SearchHit], attributes: Attributes, weights: Mapping[str, float],
           keep_top: int = 0) -> list[SearchHit]:
    """Hits re-ordered by ``score + Σ weight × P(photo shows the product's label)``, ranks renumbered.

    A product without a label for an attribute, or with one the head does not know, gains nothing for it.
    The first ``keep_top`` hits keep their places: the visually closest product is most often the very one
    photographed, and a wrong attribute guess should not push it down. The score reported stays the
    visual similarity.
    """
    def boosted(hit: SearchHit) -> float:
        bonus = 0.0
        for attribute, weight in weights.items():
            probabilities = attributes.probabilities.get(attribute)
            if weight and probabilities:
                bonus += weight * probabilities.get(PRODUCT_LABELS[attribute](hit.product), 0.0)
        return hit.score + bonus

    ordered = list(hits[:keep_top]) + sorted(hits[keep_top:], key=boosted, reverse=True)
    return [replace(hit, rank=rank) for rank, hit in enumerate(ordered)]
