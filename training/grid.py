"""Grid search on a validation split carved out of the training items (stratified: every category on both sides).

A setting is scored on the validation items' user-like views searched against the clean catalog images
of all training items; the test hold-out is never seen here. The re-ranking weights are tuned the same way,
for the winning head only.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from catalog.product import Product
from engine.heads import FashionHead
from recommender.attributes import PRODUCT_LABELS
from recommender.rerank import RERANK_POOL, rerank

from .cache import CachedFeatures
from .fit import FitParams, fit_head
from .metrics import EvalQuery, attributes_rows, rank_catalog, retrieval_metrics

log = logging.getLogger(__name__)

VALIDATION_VIEWS = 4  # user-like views per validation item used as queries


@dataclass(frozen=True)
class Grid:
    lr: tuple[float, ...] = (5e-4, 1e-3)
    weight_decay: tuple[float, ...] = (1e-3, 5e-2)
    width: tuple[int, ...] = (384, 768)
    margin: tuple[float, ...] = (0.1, 0.3)
    # Weight of the category-level metric loss: groups categories in the learned space, at a cost to
    # telling look-alike products apart.
    category_metric_weight: tuple[float, ...] = (0.0, 0.5)

    def settings(self, base: FitParams) -> list[FitParams]:
        return [replace(base, lr=lr, weight_decay=wd, width=width, margin=margin, category_metric_weight=cmw)
                for lr, wd, width, margin, cmw in itertools.product(self.lr, self.weight_decay, self.width,
                                                                    self.margin, self.category_metric_weight)]


# Re-ranking weights tried on validation (attribute → weight), all combinations, for each blend of the
# backbone's features into the retrieval vectors (HeadSpec.raw_weight).
RERANK_GRID = {"category": (0.0, 0.1, 0.2, 0.4), "colour": (0.0, 0.05, 0.1, 0.2), "gender": (0.0, 0.05, 0.1)}
RAW_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 0.85, 1.0)
KEEP_TOP = (0, 1)  # visual top hits left in place by the re-ranking


@dataclass
class Trial:
    params: FitParams
    scores: dict[str, float]
    seconds: float

    @property
    def objective(self) -> float:
        return objective(self.scores)


@dataclass
class GridResult:
    trials: list[Trial]
    best: FitParams
    raw_weight: float
    rerank_weights: dict[str, float]
    keep_top: int
    rerank_scores: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        lines = ["| lr | wd | width | margin | category metric | type_acc | type_p@5 | colour_p@5 | exact_r@1 "
                 "| objective | s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for trial in sorted(self.trials, key=lambda t: -t.objective):
            p, s = trial.params, trial.scores
            lines.append(f"| {p.lr:g} | {p.weight_decay:g} | {p.width} | {p.margin:g} | "
                         f"{p.category_metric_weight:g} | {s['type_acc']:.3f} | "
                         f"{s['type_p@5']:.3f} | {s['colour_p@5']:.3f} | {s['exact_r@1']:.3f} | "
                         f"{trial.objective:.3f} | {trial.seconds:.0f} |")
        return "\n".join(lines)


def objective(scores: dict[str, float]) -> float:
    """What a setting is chosen by: category precision and exact-item recall first, colour after."""
    return scores["type_p@5"] + scores["exact_r@1"] + 0.5 * scores["colour_p@5"] + 0.25 * scores["gender_p@5"]


class Validation:
    """Validation queries (views of the validation items) against the clean images of every training item."""

    def __init__(self, features: CachedFeatures, products: Sequence[Product], validation_ids: set[str],
                 views: int = VALIDATION_VIEWS) -> None:
        self.catalog_features = features.clean
        self.products = list(products)
        rows = [i for i, product in enumerate(self.products) if product.id in validation_ids]
        views = min(views, features.views.shape[1])
        self.query_features = features.views[rows, :views].reshape(-1, features.views.shape[2])
        self.queries = [EvalQuery(p.id, *(PRODUCT_LABELS[name](p) for name in ("category", "colour", "gender")),
                                  "val", None) for p in (self.products[i] for i in rows) for _ in range(views)]

    def hits(self, head: FashionHead) -> tuple[list, dict[str, np.ndarray]]:
        catalog, _ = head.infer(self.catalog_features)
        vectors, probabilities = head.infer(self.query_features)
        return rank_catalog(vectors, catalog, self.products, RERANK_POOL), probabilities

    def score(self, head: FashionHead, weights: dict[str, float] | None = None) -> dict[str, float]:
        hits, probabilities = self.hits(head)
        return self._score(hits, probabilities, head, weights)

    def _score(self, hits, probabilities, head: FashionHead, weights: dict[str, float] | None,
               keep_top: int = 0) -> dict[str, float]:
        if weights and any(weights.values()):
            rows = attributes_rows(probabilities, head.spec.vocabularies)
            hits = [rerank(row_hits, attributes, weights, keep_top)
                    for row_hits, attributes in zip(hits, rows, strict=True)]
        scores = retrieval_metrics(self.queries, [row[:11] for row in hits])["val"]
        labels = head.spec.vocabularies.get("category", [])
        if "category" in probabilities:
            predicted = [labels[i] for i in probabilities["category"].argmax(axis=1)]
            scores["type_acc"] = float(np.mean([q.article_type == p for q, p in zip(self.queries, predicted,
                                                                                      strict=True)]))
        else:
            scores["type_acc"] = 0.0
        return scores

    def tune_use(self, head: FashionHead) -> tuple[float, dict[str, float], int, dict[str, float]]:
        """The blend (raw_weight), re-ranking weights and keep_top with the best validation objective, and its
        scores."""
        best, best_scores = None, None
        names = [name for name in RERANK_GRID if name in head.spec.vocabularies]
        for raw_weight in RAW_WEIGHTS:
            blended = head.with_raw_weight(raw_weight)
            hits, probabilities = self.hits(blended)
            for keep_top, *values in itertools.product(KEEP_TOP, *(RERANK_GRID[name] for name in names)):
                weights = dict(zip(names, values, strict=True))
                scores = self._score(hits, probabilities, blended, weights, keep_top)
                if best_scores is None or objective(scores) > objective(best_scores) + 1e-9:
                    best, best_scores = (raw_weight, weights, keep_top), scores
            log.info("raw_weight %.2f: best so far %s → %.3f", raw_weight, best, objective(best_scores))
        return best[0], best[1], best[2], best_scores


def grid_search(features: CachedFeatures, products: Sequence[Product], vocabularies: dict[str, list[str]],
                validation_ids: set[str], grid: Grid, base: FitParams, *, device: str = "cpu") -> GridResult:
    """Fit one head per setting on the non-validation items and keep the best on validation."""
    fit_products = [p for p in products if p.id not in validation_ids]
    fit_features = features.subset([p.id for p in fit_products])
    validation = Validation(features, products, validation_ids)
    trials, best_head = [], None
    settings = grid.settings(base)
    for number, params in enumerate(settings, start=1):
        started = time.perf_counter()
        head = fit_head(fit_features, fit_products, vocabularies, params, device=device)
        trial = Trial(params, validation.score(head), time.perf_counter() - started)
        if not trials or trial.objective > max(t.objective for t in trials):
            best_head = head
        trials.append(trial)
        log.info("grid %d/%d %s: type_p@5 %.3f exact_r@1 %.3f type_acc %.3f → %.3f (%.0f s)", number,
                 len(settings), params.describe(), trial.scores["type_p@5"], trial.scores["exact_r@1"],
                 trial.scores["type_acc"], trial.objective, trial.seconds)
    best = max(trials, key=lambda trial: trial.objective)
    raw_weight, weights, keep_top, scores = validation.tune_use(best_head)
    log.info("best setting %s; raw_weight %.2f, re-rank weights %s keeping the top %d (validation objective "
             "%.3f → %.3f)", best.params.describe(), raw_weight, weights, keep_top, best.objective, objective(scores))
    return GridResult(trials, best.params, raw_weight, weights, keep_top, scores)
