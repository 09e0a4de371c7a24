"""Grid search on a validation split carved out of the training items (stratified: every category on both sides).

A setting is scored on validation photos searched against the clean catalog images of all training items;
the test hold-out is never seen here. The photos are ones training never learns from: views of the
validation items from the independent generator (``eval_views.py``, not the training generator) and real
photos by photographers whose photos are not trained on. The re-ranking weights and the blend are tuned the
same way, for the winning head only.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from catalog.product import Product
from engine.heads import FashionHead
from recommender.rerank import RERANK_POOL, rerank

from .cache import CachedFeatures
from .calibration import best_similarity, calibrate
from .fit import FitParams, RealPhotos, fit_head
from .metrics import REAL, EvalQuery, attributes_rows, query_labels, rank_catalog, retrieval_metrics, unit
from .pool_scores import PoolScores

log = logging.getLogger(__name__)

VALIDATION_VIEWS = 4  # user-like views per validation item used as queries


@dataclass(frozen=True)
class Grid:
    lr: tuple[float, ...] = (5e-4, 1e-3)
    weight_decay: tuple[float, ...] = (1e-3, 5e-2)
    # Width 384 and a category-level metric loss (Proxy-Anchor, weight 0.5) never won the earlier 32-setting
    # search; they stay available (`Grid(width=(384, 768), category_metric_weight=(0.0, 0.5))`), not searched.
    width: tuple[int, ...] = (768,)
    margin: tuple[float, ...] = (0.1, 0.3)
    category_metric_weight: tuple[float, ...] = (0.0,)

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
                 "| real type_p@5 | objective | s |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for trial in sorted(self.trials, key=lambda t: -t.objective):
            p, s = trial.params, trial.scores
            lines.append(f"| {p.lr:g} | {p.weight_decay:g} | {p.width} | {p.margin:g} | "
                         f"{p.category_metric_weight:g} | {s['type_acc']:.3f} | "
                         f"{s['type_p@5']:.3f} | {s['colour_p@5']:.3f} | {s['exact_r@1']:.3f} | "
                         f"{s.get('real_type_p@5', float('nan')):.3f} | {trial.objective:.3f} | {trial.seconds:.0f} |")
        return "\n".join(lines)


def objective(scores: dict[str, float]) -> float:
    """What a setting is chosen by: category precision and exact-item recall first, colour after; and the
    category precision on real photos as much as on generated ones."""
    return (scores["type_p@5"] + scores["exact_r@1"] + 0.5 * scores["colour_p@5"] + 0.25 * scores["gender_p@5"]
            + scores.get("real_type_p@5", 0.0))




class Validation:
    """Validation photos (their backbone features and labels) against the clean images of every training item.

    Scores average the generated photos' presets; real photos (preset ``real``, no exact product) add their
    own category precision as ``real_type_p@5``.
    """

    def __init__(self, catalog_features: np.ndarray, products: Sequence[Product], query_features: np.ndarray,
                 queries: Sequence[EvalQuery]) -> None:
        if len(query_features) != len(queries) or len(catalog_features) != len(products):
            raise ValueError("features and their labels must line up")
        self.catalog_features, self.products = catalog_features, list(products)
        self.query_features, self.queries = query_features, list(queries)

    @classmethod
    def from_views(cls, features: CachedFeatures, products: Sequence[Product], validation_ids: set[str],
                   views: int = VALIDATION_VIEWS) -> Validation:
        """Cached training-generator views of the validation items as queries (quick, but they reward learning
        that generator: prefer photos made otherwise)."""
        rows = [i for i, product in enumerate(products) if product.id in validation_ids]
        views = min(views, features.views.shape[1])
        queries = [EvalQuery(p.id, *query_labels(p), "val", None) for p in (products[i] for i in rows)
                   for _ in range(views)]
        return cls(features.clean, products, features.views[rows, :views].reshape(-1, features.views.shape[2]),
                   queries)

    def hits(self, head: FashionHead) -> tuple[list, dict[str, np.ndarray]]:
        catalog, _ = head.infer(self.catalog_features)
        vectors, probabilities = head.infer(self.query_features)
        return rank_catalog(vectors, catalog, self.products, RERANK_POOL), probabilities

    def similarity_floor(self, head: FashionHead) -> float:
        """Below which best-match similarity a photo finds "nothing close" (calibration.py), set on the real
        validation photos (all validation photos where there are none) in ``head``'s space."""
        catalog, _ = head.infer(self.catalog_features)
        vectors, _ = head.infer(self.query_features)
        real = [i for i, query in enumerate(self.queries) if query.preset == REAL] or list(range(len(self.queries)))
        return calibrate(best_similarity(vectors[real], catalog))

    def score_plain(self) -> dict[str, float]:
        """The backbone's own features, cosine, no head: the baseline every trained model must beat."""
        hits = rank_catalog(unit(self.query_features), unit(self.catalog_features), self.products, 11)
        scores = self._score(hits, {}, None, None)
        scores.pop("type_acc", None)
        return scores

    def score(self, head: FashionHead, weights: dict[str, float] | None = None) -> dict[str, float]:
        hits, probabilities = self.hits(head)
        return self._score(hits, probabilities, head, weights)

    def _score(self, hits, probabilities, head: FashionHead | None, weights: dict[str, float] | None,
               keep_top: int = 0) -> dict[str, float]:
        if weights and any(weights.values()):
            assert head is not None, "re-ranking reads the head's vocabularies"
            rows = attributes_rows(probabilities, head.spec.vocabularies)
            hits = [rerank(row_hits, attributes, weights, keep_top)
                    for row_hits, attributes in zip(hits, rows, strict=True)]
        by_preset = retrieval_metrics(self.queries, [row[:11] for row in hits])
        generated = [values for preset, values in by_preset.items() if preset != REAL]
        scores = {name: float(np.mean([values[name] for values in generated])) for name in generated[0]} \
            if generated else {"type_p@5": 0.0, "exact_r@1": 0.0, "colour_p@5": 0.0, "gender_p@5": 0.0}
        if REAL in by_preset:
            scores["real_type_p@5"] = by_preset[REAL]["type_p@5"]
        labels = head.spec.vocabularies.get("category", []) if head is not None else []
        if "category" in probabilities:
            predicted = [labels[i] for i in probabilities["category"].argmax(axis=1)]
            scores["type_acc"] = float(np.mean([p in q.types() for q, p in zip(self.queries, predicted,
                                                                                strict=True)]))
        else:
            scores["type_acc"] = 0.0
        return scores

    def tune_use(self, head: FashionHead) -> tuple[float, dict[str, float], int, dict[str, float]]:
        """The blend (raw_weight), re-ranking weights and keep_top with the best validation objective, and its
        scores."""
        best: tuple[float, dict[str, float], int] | None = None
        best_objective = -np.inf
        names = [name for name in RERANK_GRID if name in head.spec.vocabularies]
        for raw_weight in RAW_WEIGHTS:
            blended = head.with_raw_weight(raw_weight)
            hits, probabilities = self.hits(blended)
            pool = PoolScores(hits, self.queries, probabilities, head.spec.vocabularies)
            for keep_top in KEEP_TOP:
                for values in itertools.product(*(RERANK_GRID[name] for name in names)):
                    weights = dict(zip(names, values, strict=True))
                    value = objective(pool.scores(weights, keep_top))
                    if value > best_objective + 1e-9:
                        best, best_objective = (raw_weight, weights, keep_top), value
            log.info("raw_weight %.2f: best so far %s → %.3f", raw_weight, best, best_objective)
        if best is None:
            raise ValueError(f"no re-ranking setting scored a number on {len(self.queries)} validation photos")
        raw_weight, weights, keep_top = best
        blended = head.with_raw_weight(raw_weight)
        hits, probabilities = self.hits(blended)
        return raw_weight, weights, keep_top, self._score(hits, probabilities, blended, weights, keep_top)


def grid_search(features: CachedFeatures, products: Sequence[Product], vocabularies: dict[str, list[str]],
                validation_ids: set[str], grid: Grid, base: FitParams, *, device: str | torch.device = "cpu",
                validation: Validation | None = None, real: RealPhotos | None = None) -> GridResult:
    """Fit one head per setting on the non-validation items (and ``real`` photos) and keep the best on
    ``validation`` (default: training-generator views of the validation items)."""
    fit_products = [p for p in products if p.id not in validation_ids]
    fit_features = features.subset([p.id for p in fit_products])
    validation = validation or Validation.from_views(features, products, validation_ids)
    trials: list[Trial] = []
    best_head: FashionHead | None = None
    settings = grid.settings(base)
    for number, params in enumerate(settings, start=1):
        started = time.perf_counter()
        head = fit_head(fit_features, fit_products, vocabularies, params, device=device, real=real)
        trial = Trial(params, validation.score(head), time.perf_counter() - started)
        if not trials or trial.objective > max(t.objective for t in trials):
            best_head = head
        trials.append(trial)
        log.info("grid %d/%d %s: type_p@5 %.3f exact_r@1 %.3f type_acc %.3f → %.3f (%.0f s)", number,
                 len(settings), params.describe(), trial.scores["type_p@5"], trial.scores["exact_r@1"],
                 trial.scores["type_acc"], trial.objective, trial.seconds)
    best = max(trials, key=lambda trial: trial.objective)
    assert best_head is not None  # the first trial always sets it
    raw_weight, weights, keep_top, scores = validation.tune_use(best_head)
    log.info("best setting %s; raw_weight %.2f, re-rank weights %s keeping the top %d (validation objective "
             "%.3f → %.3f)", best.params.describe(), raw_weight, weights, keep_top, best.objective, objective(scores))
    return GridResult(trials, best.params, raw_weight, weights, keep_top, scores)
