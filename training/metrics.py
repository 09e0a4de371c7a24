"""Retrieval and head-accuracy metrics, exact in-memory ranking and confusion pictures: pure, shared by the grid
search and `fashionbot eval`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.product import Product
from engine.attributes import Attributes
from index import SearchHit
from recommender.attributes import PRODUCT_LABELS

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class EvalQuery:
    """One query photo and what counts as a right answer. ``product_id`` is the photographed catalog product
    (``exact``), or only a name for a real photo of something the catalog does not hold; ``article_types``,
    when given, are every category the photo may show (a coarse label), else just ``article_type``."""

    product_id: str
    article_type: str
    colour: str
    gender: str
    preset: str
    image: Image.Image | None
    article_types: tuple[str, ...] = ()
    exact: bool = True

    def types(self) -> tuple[str, ...]:
        return self.article_types or (self.article_type,)


article_type = PRODUCT_LABELS["category"]


def query_labels(product: Product) -> tuple[str, str, str]:
    """The category, colour and gender a photo of ``product`` is judged by (EvalQuery's second to fourth)."""
    return article_type(product), PRODUCT_LABELS["colour"](product), PRODUCT_LABELS["gender"](product)


REAL = "real"  # the preset of real photos: no catalog product is the one photographed


def same_gender(wanted: str, product: Product) -> bool:
    """Unisex on either side agrees with anything (a flat-lay does not tell; unisex products suit both)."""
    gender = product.gender or ""
    return wanted == gender or "Unisex" in (wanted, gender)


LABELS: dict[str, Callable[[EvalQuery, Product], bool]] = {
    "type": lambda q, p: article_type(p) in q.types(),
    "colour": lambda q, p: q.colour == (p.color or ""),
    "gender": lambda q, p: same_gender(q.gender, p),
}


def retrieval_metrics(queries: Sequence[EvalQuery], results: Sequence[Sequence[SearchHit]],
                      k: int = 5) -> dict[str, dict[str, float]]:
    """Per preset: P@k of same type / colour / gender among the *other* products shown (the photographed
    item itself is excluded, so finding it does not inflate category precision), mAP@10 of same type,
    and, where the photographed product is in the catalog, recall@1 / @10 of it."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    exact: dict[str, int] = defaultdict(int)
    for query, hits in zip(queries, results, strict=True):
        ids = [hit.product.id for hit in hits]
        others = [hit.product for hit in hits if hit.product.id != query.product_id]
        row = sums[query.preset]
        counts[query.preset] += 1
        for name, agrees in LABELS.items():
            top = others[:k]
            row[f"{name}_p@{k}"] += sum(agrees(query, p) for p in top) / max(len(top), 1)
        row["type_map@10"] += _average_precision([LABELS["type"](query, p) for p in others[:10]])
        if query.exact:
            exact[query.preset] += 1
            row["exact_r@1"] += ids[:1] == [query.product_id]
            row["exact_r@10"] += query.product_id in ids[:10]
    return {preset: {name: value / (exact[preset] if name.startswith("exact") else counts[preset])
                     for name, value in row.items()} for preset, row in sums.items()}


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
            lines.append(f"| {approach} | {preset} | "
                         + " | ".join(f"{values[m]:.3f}" if m in values else "–" for m in metrics) + " |")
    return "\n".join(lines)


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine = dot product); zero rows stay zero."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


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
