"""What a photo shows — category, colour, gender, usage — from the trained heads, or a vote of its neighbours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from engine.attributes import Attributes
from index import SearchHit

from .attributes import PRODUCT_LABELS

STYLE_ATTRIBUTES = ("category", "colour", "gender", "usage")


@dataclass(frozen=True)
class Guess:
    value: str
    confidence: float


@dataclass(frozen=True)
class Style:
    category: Guess | None
    colour: Guess | None
    gender: Guess | None
    usage: Guess | None


def head_style(attributes: Attributes) -> Style:
    """The attribute heads' top label per attribute, with its probability as the confidence."""
    def guess(attribute: str) -> Guess | None:
        top = attributes.top(attribute)
        return Guess(top[0], round(top[1], 3)) if top else None

    return Style(**{attribute: guess(attribute) for attribute in STYLE_ATTRIBUTES})


def vote_style(hits: list[SearchHit]) -> Style:
    """Similarity-weighted vote over neighbours' labels; confidence is the winner's share of the weight."""
    guesses: dict[str, Guess | None] = {}
    for attribute in STYLE_ATTRIBUTES:
        label_of = PRODUCT_LABELS[attribute]
        weights: dict[str, float] = defaultdict(float)
        for hit in hits:
            if label := label_of(hit.product):
                weights[label] += max(hit.score, 0.0) + 1e-6
        if weights:
            best = max(weights, key=weights.__getitem__)
            guesses[attribute] = Guess(best, round(weights[best] / sum(weights.values()), 3))
        else:
            guesses[attribute] = None
    return Style(**guesses)
