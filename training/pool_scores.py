"""Scoring many re-rank settings fast: the validation queries' candidate pools as arrays.

Tuning the blend and the re-rank weights tries a few hundred settings on every validation photo; re-sorting
hit objects in Python for each would cost minutes. Here each setting is array arithmetic over (queries ×
pool) matrices, and gives what :meth:`training.grid.Validation._score` gives for the objective's metrics
(``tests/training/test_pool_scores.py`` checks that they agree).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from index import SearchHit
from recommender.attributes import PRODUCT_LABELS

from .metrics import LABELS, REAL, EvalQuery


class PoolScores:
    def __init__(self, hits: Sequence[Sequence[SearchHit]], queries: Sequence[EvalQuery],
                 probabilities: Mapping[str, np.ndarray], vocabularies: Mapping[str, list[str]], k: int = 5) -> None:
        size = min(len(row) for row in hits) if hits else 0
        self.k = k
        self.similarity = np.array([[hit.similarity for hit in row[:size]] for row in hits], np.float64)
        self.agree = {name: np.array([[agrees(query, hit.product) for hit in row[:size]]
                                      for query, row in zip(queries, hits, strict=True)], bool)
                      for name, agrees in LABELS.items()}
        self.itself = np.array([[hit.product.id == query.product_id for hit in row[:size]]
                                for query, row in zip(queries, hits, strict=True)], bool)
        self.exact = np.array([query.exact for query in queries], bool)
        self.presets = [query.preset for query in queries]
        self.label_probability = {}
        for attribute, matrix in probabilities.items():
            position = {label: index for index, label in enumerate(vocabularies[attribute])}
            columns = np.array([[position.get(PRODUCT_LABELS[attribute](hit.product), -1) for hit in row[:size]]
                                for row in hits], np.int64)
            taken = np.take_along_axis(np.asarray(matrix, np.float64), np.maximum(columns, 0), axis=1)
            self.label_probability[attribute] = np.where(columns >= 0, taken, 0.0)

    def scores(self, weights: Mapping[str, float], keep_top: int = 0) -> dict[str, float]:
        """The objective's metrics after re-ranking with ``weights``, the first ``keep_top`` left in place."""
        score = self.similarity.copy()
        for attribute, weight in weights.items():
            if weight and attribute in self.label_probability:
                score += weight * self.label_probability[attribute]
        if keep_top:
            score[:, :keep_top] = np.inf  # a stable sort keeps them first, in their visual order
        order = np.argsort(-score, axis=1, kind="stable")
        itself = np.take_along_axis(self.itself, order, axis=1)
        others = ~itself
        shown = others & (np.cumsum(others, axis=1) <= self.k)
        per_query = {f"{name}_p@{self.k}": (np.take_along_axis(agree, order, axis=1) & shown).sum(axis=1)
                     / np.maximum(shown.sum(axis=1), 1) for name, agree in self.agree.items()}
        per_query["exact_r@1"] = itself[:, 0].astype(np.float64)
        by_preset: dict[str, dict[str, float]] = defaultdict(dict)
        presets = np.array(self.presets)
        for preset in dict.fromkeys(self.presets):
            rows = presets == preset
            for name, values in per_query.items():
                subset = rows & self.exact if name.startswith("exact") else rows
                if subset.any():
                    by_preset[preset][name] = float(values[subset].mean())
        generated = [values for preset, values in by_preset.items() if preset != REAL]
        scores = {name: float(np.mean([values.get(name, 0.0) for values in generated]))
                  for name in ("type_p@5", "colour_p@5", "gender_p@5", "exact_r@1")} if generated \
            else {"type_p@5": 0.0, "colour_p@5": 0.0, "gender_p@5": 0.0, "exact_r@1": 0.0}
        if REAL in by_preset:
            scores["real_type_p@5"] = by_preset[REAL]["type_p@5"]
        return scores
