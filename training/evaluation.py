"""`fashionbot eval`: retrieval quality on a held-out split, with user-like photos (not catalog images) as queries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from recommender.rerank import rerank

from .cache import ViewRecipe, compute_features, held_out_digest, query_features
from .metrics import (
    EvalQuery,
    attributes_rows,
    confusion_png,
    format_table,
    head_accuracy,
    rank_catalog,
    retrieval_metrics,
)
from .sample import StyleRow, load_styles, split_holdout, styles_to_products
from .views import user_view

log = logging.getLogger(__name__)

PRESETS = ("easy", "hard")


def make_queries(holdout: Sequence[StyleRow], images_dir: Path, *, presets: Sequence[str] = PRESETS,
                 views_per_item: int = 1, seed: int = 0) -> list[EvalQuery]:
    """Phone-like photos of the held-out products, the same ones on every run (fixed seed)."""
    rng = np.random.default_rng(seed)
    queries = []
    for row in holdout:
        with Image.open(Path(images_dir) / f"{row.id}.jpg") as source:
            product = source.convert("RGB")
        for preset in presets:
            for _ in range(views_per_item):
                queries.append(EvalQuery(row.id, row.article_type or "", row.base_colour or "",
                                         row.gender or "", preset, user_view(product, rng, preset)))
    return queries



@dataclass
class SampleEvaluation:
    """Side-by-side retrieval metrics, attribute-head accuracy and what the numbers mean."""

    table: dict[str, dict[str, dict[str, float]]]
    heads: dict[str, dict]
    notes: list[str]
    pictures: list[Path]

    def report(self) -> str:
        lines = [*self.notes, "", format_table(self.table)]
        approaches = list(self.table)
        if len(approaches) > 1:
            base = self.table[approaches[0]]
            margins = {f"{name} − {approaches[0]}": {preset: {m: v - base[preset][m] for m, v in values.items()}
                                                    for preset, values in by_preset.items()}
                       for name, by_preset in self.table.items() if name != approaches[0]}
            lines += ["", "margin over off-the-shelf features:", "", format_table(margins)]
        for attribute, result in self.heads.items():
            lines += ["", f"{attribute} head: top-1 accuracy {result['accuracy']:.3f} on {result['scored']} photos"
                      + (f" ({result['unknown']} photos of labels the head does not know, not scored)"
                         if result["unknown"] else "")]
            lines += [f"  {label:<22} {accuracy:.2f}  ({count})" for label, (accuracy, count)
                      in sorted(result["per_class"].items(), key=lambda item: -item[1][1])]
        lines += ["", *(f"picture: {path}" for path in self.pictures)]
        return "\n".join(lines)


def evaluate_sample(sample: Path, engine, artifact=None, *, cache_root: Path = Path("var/features"),
                    out_dir: Path = Path("var/eval"), rerank_weights: dict[str, float] | None = None,
                    fraction: float = 0.2, seed: int = 0) -> SampleEvaluation:
    """Off-the-shelf features vs the learned head vs the head with re-ranking, on the sample's hold-out.

    ``engine`` must be a backbone-only engine (its features feed both approaches); ``artifact`` is a
    :class:`engine.heads.HeadArtifact` or None. The catalog holds every product, held-out ones included;
    the queries are user-like photos of the held-out products (fixed seed).
    """
    rows = load_styles(Path(sample) / "styles.csv")
    _, holdout = split_holdout(rows, fraction=fraction, seed=seed)
    products = styles_to_products(rows, Path(sample) / "images")
    catalog = compute_features(engine, {p.id: Path(p.image_link) for p in products}, ViewRecipe(views=0),
                               cache_root, progress=False).clean
    queries = make_queries(holdout, Path(sample) / "images", seed=seed)
    photos = query_features(engine, queries, cache_root, f"{held_out_digest(holdout)}-{seed}")
    notes = [f"catalog: all {len(products)} products of {sample} (the held-out ones too: a shop's catalog holds "
             f"the product a user photographs); queries: {len(queries)} user-like photos ({', '.join(PRESETS)}, "
             f"seed {seed}) of the {len(holdout)} held-out products (split fraction {fraction}, seed {seed})."]

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    table = {f"off-the-shelf {engine.backbone_name}, cosine":
             retrieval_metrics(queries, rank_catalog(unit(photos), unit(catalog), products, 11))}
    heads, pictures = {}, []
    if artifact is not None:
        trained = artifact.training.get("held_out", {})
        honest = (trained.get("fraction") == fraction and trained.get("seed") == seed
                  and trained.get("ids_sha256", held_out_digest(holdout)) == held_out_digest(holdout))
        notes.append(f"head {artifact.training.get('name', '?')} (sha256 {artifact.sha256[:12]}): trained on "
                     f"{artifact.training.get('items', '?')} items; "
                     + ("the held-out products' images were never used in training or validation."
                        if honest else "WARNING: it was trained with another split — these numbers are not honest."))
        head = artifact.head
        weights = rerank_weights if rerank_weights is not None else artifact.training.get("rerank", {})
        keep = int(artifact.training.get("rerank_keep_top", 0))
        variants = [("learned head", head, {}, 0), (None, head, weights, keep)]
        if head.spec.raw_weight > 0:
            variants.insert(0, ("learned projection alone (raw_weight 0)", head.with_raw_weight(0.0), {}, 0))
        for other in ({**weights, "category": 0.3}, weights):
            for other_keep in (0, 1):
                if (other, other_keep) != (weights, keep) and any(other.values()):
                    variants.append((None, head, other, other_keep))
        for name, variant, variant_weights, keep_top in variants:
            if name is None and not any(variant_weights.values()):
                continue
            label = ", ".join(f"{key} {value:g}" for key, value in variant_weights.items() if value)
            name = name or f"learned head + re-rank ({label}{', top 1 kept' if keep_top else ''})"
            catalog_vectors, _ = variant.infer(catalog)
            vectors, probabilities = variant.infer(photos)
            hits = rank_catalog(vectors, catalog_vectors, products, RERANK_POOL_EVAL)
            if any(variant_weights.values()):
                rows_attributes = attributes_rows(probabilities, head.spec.vocabularies)
                hits = [rerank(row, attributes, variant_weights, keep_top)
                        for row, attributes in zip(hits, rows_attributes, strict=True)]
            table[name] = retrieval_metrics(queries, [row[:11] for row in hits])
        notes.append(f"learned head: retrieval vectors blend backbone and learned projection (raw_weight "
                     f"{head.spec.raw_weight:g}); re-rank chosen on validation: {weights}, visual top {keep} "
                     f"kept in place")
        truth = {"category": [q.article_type for q in queries], "colour": [q.colour for q in queries],
                 "gender": [q.gender for q in queries],
                 "usage": [next(r.usage or "" for r in holdout if r.id == q.product_id) for q in queries]}
        for attribute, labels in truth.items():
            if attribute not in probabilities:
                continue
            vocabulary = head.spec.vocabularies[attribute]
            heads[attribute] = head_accuracy(labels, probabilities[attribute], vocabulary)
            predicted = [vocabulary[i] for i in probabilities[attribute].argmax(axis=1)]
            if attribute in ("category", "colour"):
                pictures.append(confusion_png(labels, predicted, Path(out_dir) / f"confusion-{attribute}.png",
                                              f"{attribute} head on {len(labels)} user-like photos of held-out "
                                              f"products (accuracy {heads[attribute]['accuracy']:.3f})"))
    return SampleEvaluation(table, heads, notes, pictures)


RERANK_POOL_EVAL = 100
