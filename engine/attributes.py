"""What a head predicts for one image, as plain data: torch-free, so a process serving on ONNX Runtime (and
everything that only reads predictions: re-rank, style, labelling) never imports torch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attributes:
    """One image's attribute predictions: attribute → label → probability."""

    probabilities: dict[str, dict[str, float]]

    def top(self, attribute: str) -> tuple[str, float] | None:
        labels = self.probabilities.get(attribute)
        if not labels:
            return None
        best = max(labels, key=labels.__getitem__)
        return best, labels[best]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, stable for any logits."""
    shifted = np.asarray(logits, np.float32) - np.max(logits, axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def attributes_from_probabilities(probabilities: Mapping[str, np.ndarray],
                                  vocabularies: Mapping[str, Sequence[str]]) -> list[Attributes]:
    """Per attribute an (N, labels) array of probabilities → one :class:`Attributes` per row."""
    rows = len(next(iter(probabilities.values()))) if probabilities else 0
    return [Attributes({name: {label: float(p) for label, p in zip(vocabularies[name], probs[row], strict=True)}
                        for name, probs in probabilities.items()}) for row in range(rows)]
