"""`fashionbot eval`: retrieval quality on the held-out split and on real photos, the shipped model beside the plain
backbone.

Queries are photos, never catalog images: the held-out products photographed by the training generator
(``easy``, ``hard``: what training learned from, so an optimistic row) and by the independent generator
(``indep-easy``, ``indep-hard``: what models are chosen on), and real photos that other people took
(``real``, scored on labels only). The catalog holds all products, held-out ones included.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine import Engine, EngineConfig
from engine.embed import DEFAULT_QUERY_FRAMING
from engine.heads import FashionHead, HeadArtifact
from recommender.attributes import PRODUCT_LABELS
from recommender.closeness import similarity_floor
from recommender.rerank import rerank

from .cache import ViewRecipe, compute_features, held_out_digest, query_features
from .calibration import best_similarity, non_fashion_photos
from .metrics import (
    REAL,
    EvalQuery,
    attributes_rows,
    confusion_png,
    format_table,
    head_accuracy,
    rank_catalog,
    retrieval_metrics,
    unit,
)
from .photo_sets import independent_queries, real_queries, training_generator_queries
from .real_photos import load_evaluation_photos
from .sample import load_styles, split_holdout, styles_to_products

log = logging.getLogger(__name__)

RERANK_POOL_EVAL = 100
# The rows the shipped model must never lose on against the plain backbone, and by which metrics.
GUARDED_PRESETS = ("indep-easy", "indep-hard", REAL, "easy", "hard")
GUARDED_METRICS = ("exact_r@1", "type_p@5")
SHIPPED = "shipped: head + re-rank"


@dataclass
class SampleEvaluation:
    """Side-by-side retrieval metrics, the never-worse comparison, head accuracy and what the numbers mean."""

    table: dict[str, dict[str, dict[str, float]]]
    heads: dict[str, dict]
    notes: list[str]
    pictures: list[Path] = field(default_factory=list)
    closeness: dict[str, float] = field(default_factory=dict)  # "nothing close": floor and refused shares

    def baseline(self) -> dict[str, dict[str, float]]:
        """Per photo set and metric, the best any plain-backbone framing reached."""
        plain = [by_preset for name, by_preset in self.table.items() if name.startswith("plain")]
        return {preset: {metric: max(rows[preset][metric] for rows in plain if metric in rows.get(preset, {}))
                         for metric in GUARDED_METRICS if any(metric in rows.get(preset, {}) for rows in plain)}
                for preset in GUARDED_PRESETS if any(preset in rows for rows in plain)}

    def comparison(self) -> list[tuple[str, str, float, float]]:
        """(photos, metric, best plain backbone, shipped) for every guarded row."""
        if SHIPPED not in self.table:
            return []
        shipped = self.table[SHIPPED]
        return [(preset, metric, value, shipped[preset][metric])
                for preset, metrics in self.baseline().items() for metric, value in metrics.items()
                if metric in shipped.get(preset, {})]

    def never_worse(self, tolerance: float = 0.0) -> bool:
        return all(shipped >= plain - tolerance for _, _, plain, shipped in self.comparison())

    def report(self) -> str:
        lines = [*self.notes, "", format_table(self.table)]
        if self.comparison():
            lines += ["", "never worse than the plain backbone (its best framing per row):", "",
                      "| photos | metric | plain backbone (best framing) | shipped | difference |",
                      "|---|---|---|---|---|"]
            lines += [f"| {preset} | {metric} | {plain:.3f} | {shipped:.3f} | {shipped - plain:+.3f}"
                      f"{'' if shipped >= plain else ' ✗'} |" for preset, metric, plain, shipped in self.comparison()]
            lines.append("\nverdict: " + ("the shipped model matches or beats the plain backbone on every row"
                                          if self.never_worse() else "WORSE than the plain backbone on a row (✗)"))
        if self.closeness:
            shares = dict(self.closeness)
            lines += ["", f"nothing close (best match below {shares.pop('floor'):.3f}), share of photos answered so:",
                      ""]
            lines += [f"  {name:<66} {share:.3f}" for name, share in shares.items()]
        for attribute, result in self.heads.items():
            lines += ["", f"{attribute} head: top-1 accuracy {result['accuracy']:.3f} on {result['scored']} photos"
                      + (f" ({result['unknown']} photos of labels the head does not know, not scored)"
                         if result["unknown"] else "")]
            lines += [f"  {label:<22} {accuracy:.2f}  ({count})" for label, (accuracy, count)
                      in sorted(result["per_class"].items(), key=lambda item: -item[1][1])]
        lines += ["", *(f"picture: {path}" for path in self.pictures)]
        return "\n".join(lines)


def evaluate_sample(sample: Path, *, backbone: str = "tf_efficientnet_lite0", device: str = "auto",
                    artifact: Path | None = None, real_photos: Path | None = None,
                    cache_root: Path = Path("var/features"), out_dir: Path = Path("var/eval"),
                    fraction: float = 0.2, seed: int = 0, query_framing: str = "auto") -> SampleEvaluation:
    """The plain backbone (whole frame and the default framing) and, with ``artifact`` (a head file), the learned
    head with and without re-ranking, on every photo set."""
    rows = load_styles(Path(sample) / "styles.csv")
    _, holdout = split_holdout(rows, fraction=fraction, seed=seed)
    products = styles_to_products(rows, Path(sample) / "images")
    held = [product for product in products if product.id in {row.id for row in holdout}]
    queries = training_generator_queries(held, seed=seed) + independent_queries(held, seed=seed)
    if real_photos is not None and Path(real_photos).is_dir():
        queries += real_queries(load_evaluation_photos(real_photos))
    key = f"{held_out_digest(holdout)}-{seed}"
    notes = [f"catalog: all {len(products)} products of {sample}; queries: {len(held)} held-out products (split "
             f"fraction {fraction}, seed {seed}) photographed by the training generator (easy, hard) and by the "
             f"independent one (indep-easy, indep-hard), and {sum(q.preset == REAL for q in queries)} real photos "
             f"({real_photos}; real: labels only, gender Unisex agrees with either)."]

    table: dict[str, dict[str, dict[str, float]]] = {}
    for framing in ("whole", DEFAULT_QUERY_FRAMING):
        engine = Engine.load(EngineConfig(backbone=backbone, device=device, artifact=None, query_framing=framing))
        catalog, photos = _features(engine, products, queries, cache_root, key)
        table[f"plain {engine.backbone_name}, {framing}"] = retrieval_metrics(
            queries, rank_catalog(unit(photos), unit(catalog), products, 11))
    heads: dict[str, dict] = {}
    pictures: list[Path] = []
    closeness: dict[str, float] = {}
    if artifact is not None:
        engine = Engine.load(EngineConfig(backbone=backbone, device=device, artifact=artifact,
                                          query_framing=query_framing))
        trained = engine.head
        if trained is None:  # a head file loads or raises; "auto" alone may end without a head
            raise ValueError(f"{artifact}: no head to evaluate")
        notes.append(_honesty(trained, holdout, fraction, seed))
        catalog, photos = _features(engine, products, queries, cache_root, key)
        head = trained.head
        weights = trained.training.get("rerank", {})
        keep = int(trained.training.get("rerank_keep_top", 0))
        catalog_vectors, _ = head.infer(catalog)
        vectors, probabilities = head.infer(photos)
        hits = rank_catalog(vectors, catalog_vectors, products, RERANK_POOL_EVAL)
        table[f"learned head, {engine.framing}"] = retrieval_metrics(queries, [row[:11] for row in hits])
        if any(weights.values()):
            rows_attributes = attributes_rows(probabilities, head.spec.vocabularies)
            hits = [rerank(row, attributes, weights, keep) for row, attributes in zip(hits, rows_attributes,
                                                                                      strict=True)]
        table[SHIPPED] = retrieval_metrics(queries, [row[:11] for row in hits])
        notes.append(f"shipped: {trained.training.get('name', '?')} on {engine.backbone_name}"
                     f"{' (last stage fine-tuned)' if trained.backbone_state else ''}, photos framed {engine.framing}, "
                     f"vectors blend backbone and projection (raw_weight {head.spec.raw_weight:g}), re-rank {weights} "
                     f"keeping the visual top {keep} (all chosen on validation photos training never used)")
        heads, pictures = _head_report(queries, probabilities, head.spec.vocabularies, out_dir)
        closeness = _closeness(engine, head, queries, vectors, catalog_vectors, products)
    return SampleEvaluation(table, heads, notes, pictures, closeness)


def _closeness(engine: Engine, head: FashionHead, queries: Sequence[EvalQuery], vectors: np.ndarray,
               catalog_vectors: np.ndarray, products) -> dict[str, float]:
    """How often the shipped engine says "nothing close": to garments (false refusals), to photos that show no
    clothing (the rest are false matches), and to garments whose kind the catalog lacks."""
    floor = similarity_floor(engine)
    if floor is None:
        return {}
    best = best_similarity(vectors, catalog_vectors)
    out = {"floor": floor}
    for preset in dict.fromkeys(q.preset for q in queries):
        rows = [i for i, q in enumerate(queries) if q.preset == preset]
        out[f"{preset} garment photos (false refusals)"] = float((best[rows] < floor).mean())
    others = non_fashion_photos()
    if others:
        outside, _ = head.infer(engine.photo_features([image for _, image in others]).numpy())
        out[f"{len(others)} photos of no clothing (scikit-image; right refusals)"] = float(
            (best_similarity(outside, catalog_vectors) < floor).mean())
    real = [i for i, q in enumerate(queries) if q.preset == REAL]
    if real:
        kinds = np.array([PRODUCT_LABELS["category"](product) for product in products])
        missing = [float((vectors[i] @ catalog_vectors[~np.isin(kinds, queries[i].types())].T).max()) for i in real]
        out["real photos, their kind removed from the catalog (right refusals)"] = float(np.mean(
            [value < floor for value in missing]))
    return out


def _features(engine: Engine, products, queries: Sequence[EvalQuery], cache_root: Path,
              key: str) -> tuple[np.ndarray, np.ndarray]:
    catalog = compute_features(engine, {p.id: Path(p.image_link) for p in products}, ViewRecipe(views=0),
                               cache_root, progress=False).clean
    return catalog, query_features(engine, [_photo(q) for q in queries], cache_root, f"eval-{key}")


def _photo(query: EvalQuery) -> Image.Image:
    assert query.image is not None, f"{query.product_id}: the photo sets give every query its photo"
    return query.image


def _honesty(artifact: HeadArtifact, holdout, fraction: float, seed: int) -> str:
    trained = artifact.training.get("held_out", {})
    honest = (trained.get("fraction") == fraction and trained.get("seed") == seed
              and trained.get("ids_sha256", held_out_digest(holdout)) == held_out_digest(holdout))
    return (f"head {artifact.training.get('name', '?')} (sha256 {artifact.sha256[:12]}): trained on "
            f"{artifact.training.get('items', '?')} catalog items and "
            f"{artifact.training.get('real_photos', {}).get('trained', 0)} real photos; "
            + ("the held-out products' images were never used in training or validation, nor were the real "
               "evaluation photos." if honest else
               "WARNING: it was trained with another split — these numbers are not honest."))


def _head_report(queries: Sequence[EvalQuery], probabilities: dict[str, np.ndarray],
                 vocabularies: dict[str, list[str]], out_dir: Path) -> tuple[dict[str, dict], list[Path]]:
    """Head accuracy on the photos no training generator made (independent generator and real)."""
    rows = [i for i, q in enumerate(queries) if q.preset.startswith("indep") or q.preset == REAL]
    truth = {"category": [queries[i].article_type for i in rows], "colour": [queries[i].colour for i in rows],
             "gender": [queries[i].gender for i in rows]}
    heads, pictures = {}, []
    for attribute, labels in truth.items():
        if attribute not in probabilities:
            continue
        vocabulary = vocabularies[attribute]
        matrix = probabilities[attribute][rows]
        heads[attribute] = head_accuracy(labels, matrix, vocabulary)
        if attribute in ("category", "colour"):
            predicted = [vocabulary[i] for i in matrix.argmax(axis=1)]
            pictures.append(confusion_png(labels, predicted, Path(out_dir) / f"confusion-{attribute}.png",
                                          f"{attribute} head on {len(labels)} photos no training generator made "
                                          f"(accuracy {heads[attribute]['accuracy']:.3f})"))
    return heads, pictures
