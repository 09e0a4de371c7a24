"""Retrieval quality on a held-out split, with user-like photos (not catalog images) as queries."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.product import Product
from engine.heads import Attributes
from index import SearchHit

from .attributes import PRODUCT_LABELS
from .sample import StyleRow
from .views import user_view

log = logging.getLogger(__name__)

PRESETS = ("easy", "hard")


@dataclass(frozen=True)
class EvalQuery:
    product_id: str
    article_type: str
    colour: str
    gender: str
    preset: str
    image: Image.Image


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


article_type = PRODUCT_LABELS["category"]


LABELS: dict[str, tuple[Callable[[EvalQuery], str], Callable[[Product], str]]] = {
    "type": (lambda q: q.article_type, article_type),
    "colour": (lambda q: q.colour, lambda p: p.color or ""),
    "gender": (lambda q: q.gender, lambda p: p.gender or ""),
}


def retrieval_metrics(queries: Sequence[EvalQuery], results: Sequence[Sequence[SearchHit]],
                      k: int = 5) -> dict[str, dict[str, float]]:
    """Per preset: P@k of same type / colour / gender among the *other* products shown (the photographed
    item itself is excluded, so finding it does not inflate category precision), mAP@10 of same type,
    and recall@1 / @10 of the exact photographed product."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for query, hits in zip(queries, results, strict=True):
        ids = [hit.product.id for hit in hits]
        others = [hit.product for hit in hits if hit.product.id != query.product_id]
        row = sums[query.preset]
        counts[query.preset] += 1
        for name, (wanted, label) in LABELS.items():
            top = others[:k]
            row[f"{name}_p@{k}"] += sum(label(p) == wanted(query) for p in top) / max(len(top), 1)
        row["type_map@10"] += _average_precision([article_type(p) == query.article_type for p in others[:10]])
        row["exact_r@1"] += ids[:1] == [query.product_id]
        row["exact_r@10"] += query.product_id in ids[:10]
    return {preset: {name: value / counts[preset] for name, value in row.items()}
            for preset, row in sums.items()}


def _average_precision(relevant: list[bool]) -> float:
    hits, total = 0, 0.0
    for rank, is_relevant in enumerate(relevant, start=1):
        if is_relevant:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def format_table(rows: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown table: one row per (approach, preset), one column per metric."""
    metrics = sorted({name for by_preset in rows.values() for m in by_preset.values() for name in m})
    lines = ["| approach | photos | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for approach, by_preset in rows.items():
        for preset, values in by_preset.items():
            lines.append(f"| {approach} | {preset} | " + " | ".join(f"{values[m]:.3f}" for m in metrics) + " |")
    return "\n".join(lines)


def rank_catalog(query_vectors: np.ndarray, catalog_vectors: np.ndarray, products: Sequence[Product],
                 k: int) -> list[list[SearchHit]]:
    """Exact cosine search of unit vectors (what a flat index returns), as hits: for evaluation in memory."""
    scores = np.asarray(query_vectors, np.float32) @ np.asarray(catalog_vectors, np.float32).T
    k = min(k, len(products))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < len(products) else np.tile(
        np.arange(len(products)), (len(scores), 1))
    results = []
    for row, candidates in enumerate(top):
        ordered = candidates[np.argsort(-scores[row, candidates], kind="stable")]
        results.append([SearchHit(products[i], float(scores[row, i]), rank) for rank, i in enumerate(ordered)])
    return results


def attributes_rows(probabilities: dict[str, np.ndarray], vocabularies: dict[str, list[str]]) -> list[Attributes]:
    """Probability matrices → one :class:`Attributes` per row."""
    rows = len(next(iter(probabilities.values()))) if probabilities else 0
    return [Attributes({name: dict(zip(vocabularies[name], map(float, probs[row]), strict=True))
                        for name, probs in probabilities.items()}) for row in range(rows)]


def head_accuracy(truth: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> dict:
    """Top-1 accuracy of one attribute head over the queries whose true label it knows, overall and per class;
    ``unknown`` counts queries whose true label is not in the head's vocabulary (always wrong, not scored)."""
    predicted = [labels[i] for i in np.asarray(probabilities).argmax(axis=1)] if len(truth) else []
    known = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in set(labels)]
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, p in known:
        per_class[t][0] += t == p
        per_class[t][1] += 1
    return {"accuracy": sum(t == p for t, p in known) / max(len(known), 1), "scored": len(known),
            "unknown": len(truth) - len(known),
            "per_class": {label: (right / total, total) for label, (right, total) in sorted(per_class.items())}}


def confusion_png(truth: Sequence[str], predicted: Sequence[str], path: Path, title: str) -> Path:
    """A row-normalised confusion matrix picture (true label rows, predicted columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(set(truth) | set(predicted))
    where = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for t, p in zip(truth, predicted, strict=True):
        counts[where[t], where[p]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(6.0, 0.32 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), [f"{label} ({int(counts[i].sum())})" for i, label in enumerate(labels)],
                    fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (queries)")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, fraction=0.04)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return Path(path)


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
    from .sample import load_styles, split_holdout, styles_to_products
    from .train.cache import ViewRecipe, compute_features, held_out_digest, query_features

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
                from .rerank import rerank

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
