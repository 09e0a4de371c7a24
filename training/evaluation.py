"""`fashionbot eval`: retrieval quality on the held-out split and on real photos, the shipped model beside the plain
backbone.

Queries are photos, never catalog images: the held-out products photographed by the training generator
(``easy``, ``hard``: what training learned from, so an optimistic row) and by the independent generator
(``indep-easy``, ``indep-hard``: what models are chosen on), and real photos that other people took
(``real``, scored on labels only). The catalog holds all products, held-out ones included.

Each catalog is scored twice: as the sample labels it (``native``) and relabelled as another shop's Merchant feed
would label it (``foreign vocabulary``, `foreign_feed.py`). Both are labelled as an index build labels them (the
feed's labels reconciled with what the packshot shows) and both are judged by the sample's own labels: the same
photo of the same product is right or wrong whatever the shop calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image

from catalog.product import Product
from engine import Engine, EngineConfig
from engine.attributes import Attributes
from engine.colour import PixelColour, batch_pixels
from engine.framing import DEFAULT_QUERY_FRAMING
from engine.heads import FashionHead, HeadArtifact
from index import SearchHit
from recommender.attributes import PRODUCT_LABELS
from recommender.closeness import similarity_floor
from recommender.labelling import label_product
from recommender.rerank import rerank

from .cache import ViewRecipe, compute_features, held_out_digest, query_features
from .calibration import best_similarity, non_fashion_photos
from .data import load_rgb
from .foreign_feed import relabel
from .label_coverage import Coverage, catalog_coverage, coverage_table, real_feeds_coverage
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
FOREIGN = "foreign vocabulary"
SHIPPED = "shipped: head + re-rank"
# Issue 19: a shop's vocabulary may cost at most this much against the sample's own, on these metrics.
FOREIGN_TOLERANCE = 0.01
FOREIGN_METRICS = ("type_p@5", "colour_p@5")


@dataclass
class SampleEvaluation:
    """Side-by-side retrieval metrics, the never-worse comparison, head accuracy and what the numbers mean."""

    table: dict[str, dict[str, dict[str, float]]]
    heads: dict[str, dict]
    notes: list[str]
    pictures: list[Path] = field(default_factory=list)
    closeness: dict[str, float] = field(default_factory=dict)  # "nothing close": floor and refused shares
    foreign: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # table's rows, foreign catalog
    coverage: list[Coverage] = field(default_factory=list)

    def baseline(self) -> dict[str, dict[str, float]]:
        """Per photo set and metric, the best any plain-backbone framing reached."""
        plain = [by_preset for name, by_preset in self.table.items() if name.startswith("plain")]
        return {preset: {metric: max(rows[preset][metric] for rows in plain if metric in rows.get(preset, {}))
                         for metric in GUARDED_METRICS if any(metric in rows.get(preset, {}) for rows in plain)}
                for preset in GUARDED_PRESETS if any(preset in rows for rows in plain)}

    def comparison(self, table: dict[str, dict[str, dict[str, float]]] | None = None
                   ) -> list[tuple[str, str, float, float]]:
        """(photos, metric, best plain backbone, shipped) for every guarded row, of the native catalog's shipped
        rows or ``table``'s (the foreign catalog's: its plain rows are the native ones, rank for rank)."""
        rows = self.table if table is None else table
        if SHIPPED not in rows:
            return []
        shipped = rows[SHIPPED]
        return [(preset, metric, value, shipped[preset][metric])
                for preset, metrics in self.baseline().items() for metric, value in metrics.items()
                if metric in shipped.get(preset, {})]

    def never_worse(self, tolerance: float = 0.0) -> bool:
        """The shipped model against the plain backbone, on the sample's words and on a foreign shop's."""
        return all(shipped >= plain - tolerance
                   for _, _, plain, shipped in self.comparison() + self.comparison(self.foreign))

    def vocabulary_gap(self) -> list[tuple[str, str, str, float, float]]:
        """(approach, photos, metric, native, foreign vocabulary) for every row scored on both catalogs."""
        return [(approach, preset, metric, self.table[approach][preset][metric], values[metric])
                for approach, by_preset in self.foreign.items() for preset, values in by_preset.items()
                for metric in FOREIGN_METRICS if metric in values and approach in self.table]

    def foreign_as_good(self) -> bool:
        return all(foreign >= native - FOREIGN_TOLERANCE for *_, native, foreign in self.vocabulary_gap())

    def report(self) -> str:
        lines = [*self.notes, "", format_table(self.table)]
        for catalog, table in (("", self.table), (", foreign vocabulary", self.foreign)):
            compared = self.comparison(table)
            if not compared:
                continue
            lines += ["", f"never worse than the plain backbone (its best framing per row){catalog}:", "",
                      "| photos | metric | plain backbone (best framing) | shipped | difference |",
                      "|---|---|---|---|---|"]
            lines += [f"| {preset} | {metric} | {plain:.3f} | {shipped:.3f} | {shipped - plain:+.3f}"
                      f"{'' if shipped >= plain else ' ✗'} |" for preset, metric, plain, shipped in compared]
        if self.comparison():
            lines.append("\nverdict: " + ("the shipped model matches or beats the plain backbone on every row"
                                          if self.never_worse() else "WORSE than the plain backbone on a row (✗)"))
        if self.vocabulary_gap():
            lines += ["", "native vs foreign vocabulary (the same products and photos, judged by the sample's labels; "
                      f"✗: more than {FOREIGN_TOLERANCE} below native):", "", _gap_table(self.vocabulary_gap())]
            lines.append("\nverdict: " + (f"a foreign shop's vocabulary costs at most {FOREIGN_TOLERANCE} on every row"
                                          if self.foreign_as_good() else
                                          f"a foreign shop's vocabulary costs more than {FOREIGN_TOLERANCE} (✗)"))
        if self.coverage:
            lines += ["", "label coverage: the sample's catalogs as a build labels them (packshots local), and the "
                      "real feeds from their own text (their images are URLs, not fetched offline):", "",
                      coverage_table(self.coverage)]
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


def _gap_table(gap: Sequence[tuple[str, str, str, float, float]]) -> str:
    """One row per approach and photo set: each metric native, foreign and the difference."""
    rows: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for approach, preset, metric, native, foreign in gap:
        rows.setdefault((approach, preset), {})[metric] = (native, foreign)
    lines = ["| approach | photos | " + " | ".join(f"{metric} native | foreign | difference"
                                                   for metric in FOREIGN_METRICS) + " |",
             "|---|---|" + "---|---|---|" * len(FOREIGN_METRICS)]
    for (approach, preset), values in rows.items():
        cells = [f"{native:.3f} | {foreign:.3f} | {foreign - native:+.3f}"
                 f"{' ✗' if foreign < native - FOREIGN_TOLERANCE else ''}" for native, foreign in values.values()]
        lines.append(f"| {approach} | {preset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate_sample(sample: Path, *, backbone: str = "tf_efficientnet_lite0", device: str = "auto",
                    artifact: Path | None = None, real_photos: Path | None = None,
                    cache_root: Path = Path("var/features"), out_dir: Path = Path("var/eval"),
                    fraction: float = 0.2, seed: int = 0, query_framing: str = "auto",
                    real_feeds: Path | None = None, runtime: str = "torch",
                    garment_model: str = "student") -> SampleEvaluation:
    """The plain backbone (whole frame and the default framing) and, with ``artifact`` (a head file), the learned
    head with and without re-ranking, on every photo set; the plain backbone and the shipped model again on the
    foreign-vocabulary catalog; label coverage of both catalogs and of the feeds in ``real_feeds``.

    ``runtime="onnx"``: every backbone feature (packshots, framed photos, their garment masks) is computed on ONNX
    Runtime, as the CPU bot serves them; heads run in PyTorch (their ONNX export agrees to cosine 0.9999), so the
    rows measure the runtime's parity with the PyTorch ones. ``garment_model``: what finds the garment for the
    photos' garment views (engine/garment.py)."""
    rows = load_styles(Path(sample) / "styles.csv")
    _, holdout = split_holdout(rows, fraction=fraction, seed=seed)
    products = styles_to_products(rows, Path(sample) / "images")
    foreign = relabel(products, seed=seed)
    held = [product for product in products if product.id in {row.id for row in holdout}]
    queries = training_generator_queries(held, seed=seed) + independent_queries(held, seed=seed)
    if real_photos is not None and Path(real_photos).is_dir():
        queries += real_queries(load_evaluation_photos(real_photos))
    key = f"{held_out_digest(holdout)}-{seed}"
    notes = [f"catalog: all {len(products)} products of {sample}; queries: {len(held)} held-out products (split "
             f"fraction {fraction}, seed {seed}) photographed by the training generator (easy, hard) and by the "
             f"independent one (indep-easy, indep-hard), and {sum(q.preset == REAL for q in queries)} real photos "
             f"({real_photos}; real: labels only, gender Unisex agrees with either).",
             f"foreign vocabulary: the same products and images labelled as another shop's Merchant feed would "
             f"(training/foreign_feed.py, seed {seed}): GMC gender, Google categories as ids and as paths, product "
             f"types and colours in Russian, Spanish or other English words, no usage, titles without the sample's "
             f"label words; judged by the sample's labels."]

    table: dict[str, dict[str, dict[str, float]]] = {}
    foreign_table: dict[str, dict[str, dict[str, float]]] = {}
    catalogs = {"native": labelled(products, None), FOREIGN: labelled(foreign, None)}  # no head: the feed's labels
    for framing in ("whole", DEFAULT_QUERY_FRAMING):
        engine = _feature_engine(EngineConfig(backbone=backbone, device=device, artifact=None, query_framing=framing,
                                              garment_model=garment_model), runtime)
        catalog, photos = _features(engine, products, queries, cache_root, key)
        name = f"plain {engine.backbone_name}, {framing}"
        table[name] = retrieval_metrics(queries, rank_catalog(unit(photos), unit(catalog), products, 11))
        foreign_table[name] = retrieval_metrics(queries, judged(
            rank_catalog(unit(photos), unit(catalog), catalogs[FOREIGN], 11), products))
    heads: dict[str, dict] = {}
    pictures: list[Path] = []
    closeness: dict[str, float] = {}
    if artifact is not None:
        engine = Engine.load(EngineConfig(backbone=backbone, device=device, artifact=artifact,
                                          query_framing=query_framing, garment_model=garment_model))
        trained = engine.head
        if trained is None:  # a head file loads or raises; "auto" alone may end without a head
            raise ValueError(f"{artifact}: no head to evaluate")
        notes.append(_honesty(trained, holdout, fraction, seed))
        features_by = _feature_engine(engine.config, runtime) if runtime != "torch" else engine
        catalog, photos = _features(features_by, products, queries, cache_root, key)
        head = trained.head
        weights = trained.training.get("rerank", {})
        keep = int(trained.training.get("rerank_keep_top", 0))
        catalog_vectors, packshot_probabilities = head.infer(catalog)
        packshots = attributes_rows(packshot_probabilities, head.spec.vocabularies)
        # As the engine labels packshots and photos: colour blended with the pixels' (engine/colour.py).
        pixel_colour = PixelColour.for_head(head.spec.vocabularies)
        if pixel_colour is not None:
            packshots = pixel_colour.blend_packshots(packshots, _packshot_pixels(engine, products)) or packshots
        catalogs = {"native": labelled(products, packshots), FOREIGN: labelled(foreign, packshots)}
        vectors, probabilities = head.infer(photos)
        table[f"learned head, {engine.framing}"] = retrieval_metrics(
            queries, rank_catalog(vectors, catalog_vectors, products, 11))
        photo_attributes = attributes_rows(probabilities, head.spec.vocabularies) if any(weights.values()) else None
        blended_colour = None
        if pixel_colour is not None:
            masks = list(engine.locator.masks([_photo(q) for q in queries])) if engine.locator else None
            blended = pixel_colour.blend_photos(attributes_rows(probabilities, head.spec.vocabularies),
                                                [_photo(q) for q in queries], masks)
            assert blended is not None  # rows in, rows out
            blended_colour = np.array([[row.probabilities["colour"][label] for label in pixel_colour.labels]
                                       for row in blended])
            photo_attributes = blended if photo_attributes is not None else None
        table[SHIPPED] = retrieval_metrics(queries, judged(shipped_ranking(
            vectors, catalog_vectors, catalogs["native"], photo_attributes, weights, keep), products))
        foreign_table[SHIPPED] = retrieval_metrics(queries, judged(shipped_ranking(
            vectors, catalog_vectors, catalogs[FOREIGN], photo_attributes, weights, keep), products))
        notes.append(f"shipped: {trained.training.get('name', '?')} on {engine.backbone_name}"
                     f"{' (last stage fine-tuned)' if trained.backbone_state else ''}, photos framed {engine.framing}, "
                     f"vectors blend backbone and projection (raw_weight {head.spec.raw_weight:g}), re-rank {weights} "
                     f"keeping the visual top {keep} (all chosen on validation photos training never used)")
        heads, pictures = _head_report(queries, probabilities, head.spec.vocabularies, out_dir)
        if blended_colour is not None:
            scored = [i for i, q in enumerate(queries) if q.preset.startswith("indep") or q.preset == REAL]
            heads["colour, blended with pixel colour,"] = head_accuracy(
                [queries[i].colour for i in scored], blended_colour[scored], head.spec.vocabularies["colour"])
        closeness = _closeness(features_by, head, queries, vectors, catalog_vectors, products)
    coverage = [catalog_coverage(f"sample, {name}", labelled_products, products)
                for name, labelled_products in catalogs.items()]
    if real_feeds is not None and Path(real_feeds).is_dir():
        coverage += real_feeds_coverage(Path(real_feeds))
    return SampleEvaluation(table, heads, notes, pictures, closeness, foreign_table, coverage)


def labelled(products: Sequence[Product], packshots: Sequence[Attributes] | None) -> list[Product]:
    """The products as an index build labels them: each feed's labels reconciled with what its packshot shows
    (``packshots``, one per product, from the head; without a head, the feed's labels alone)."""
    images: Sequence[Attributes | None] = packshots if packshots is not None else [None] * len(products)
    return [label_product(product, image) for product, image in zip(products, images, strict=True)]


def shipped_ranking(vectors: np.ndarray, catalog_vectors: np.ndarray, catalog: Sequence[Product],
                    photo_attributes: Sequence[Attributes] | None, weights: dict[str, float],
                    keep: int) -> list[list[SearchHit]]:
    """The shipped search in memory: the nearest ``RERANK_POOL_EVAL`` re-ranked by the photo's attributes against
    the catalog's labels, the top 11 kept (the photographed product and ten others)."""
    hits = rank_catalog(vectors, catalog_vectors, catalog, RERANK_POOL_EVAL)
    if photo_attributes is not None:
        hits = [rerank(row, attributes, weights, keep) for row, attributes in zip(hits, photo_attributes,
                                                                                  strict=True)]
    return [row[:11] for row in hits]


def judged(results: Sequence[Sequence[SearchHit]], natives: Sequence[Product]) -> list[list[SearchHit]]:
    """Hits with the sample's own product in each one's place, so that any catalog's answers are judged by the
    sample's labels (a product's id is the same in every relabelling)."""
    by_id = {product.id: product for product in natives}
    return [[replace(hit, product=by_id[hit.product.id]) for hit in row] for row in results]


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
        outside, _ = head.infer(np.asarray(engine.photo_features([image for _, image in others])))
        out[f"{len(others)} photos of no clothing (scikit-image; right refusals)"] = float(
            (best_similarity(outside, catalog_vectors) < floor).mean())
    real = [i for i, q in enumerate(queries) if q.preset == REAL]
    if real:
        kinds = np.array([PRODUCT_LABELS["category"](product) for product in products])
        missing = [float((vectors[i] @ catalog_vectors[~np.isin(kinds, queries[i].types())].T).max()) for i in real]
        out["real photos, their kind removed from the catalog (right refusals)"] = float(np.mean(
            [value < floor for value in missing]))
    return out


def _feature_engine(config: EngineConfig, runtime: str) -> Engine:
    """What computes backbone features for ``config``: PyTorch, or the same model on ONNX Runtime (on the CPU)."""
    if runtime == "torch":
        return Engine.load(config)
    from engine.onnx_engine import OnnxEngine

    # The ONNX engine offers what the evaluation reads of an engine (features, framing, fingerprints).
    return cast(Engine, OnnxEngine.load(replace(config, runtime="onnx", device="cpu")))


def _features(engine: Engine, products, queries: Sequence[EvalQuery], cache_root: Path,
              key: str) -> tuple[np.ndarray, np.ndarray]:
    catalog = compute_features(engine, {p.id: Path(p.image_link) for p in products}, ViewRecipe(views=0),
                               cache_root, progress=False).clean
    return catalog, query_features(engine, [_photo(q) for q in queries], cache_root, f"eval-{key}")


def _packshot_pixels(engine: Engine, products: Sequence[Product]) -> np.ndarray:
    """Each packshot as the model sees it, on the coarse grid pixel colour reads (what an index build passes)."""
    mean, std = engine.data_config["mean"], engine.data_config["std"]
    return np.concatenate([batch_pixels(np.asarray(engine.preprocess([load_rgb(product.image_link)])), mean, std)
                           for product in products])


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
