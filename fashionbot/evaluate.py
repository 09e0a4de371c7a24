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
from index import SearchHit

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


def article_type(product: Product) -> str:
    return product.extra.get("article_type") or (product.product_type or "").split(">")[-1].strip()


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
