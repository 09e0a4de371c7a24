"""Choose how pixel colour (engine/colour.py) is blended with the colour head, on validation photos only.

    python scripts/tune_pixel_colour.py [--sample ../shared/fashion-sample] [--cache var/features]

The photos and catalog are the ones `fashionbot train` validates on: the sample's split (hold-out 0.2, seed 0)
is never touched; of the remaining items, the validation share (0.15, seed 1) is photographed by the
independent generator (two easy and two hard photos each, seed 2), and searched against the packshots of every
training item, re-ranked with the shipped re-rank weights, as a build labels them (the sample's own words, and a
foreign shop's). The real evaluation photos are not read.

The shipped head was refit on every training item, validation items included (trainer.py): on these photos its
colour head is right 0.63 of the time against 0.39 on held-out products, which would rig any blend in its favour.
So the head scored here is refit the shipped way (its parameters, the training generator's views) on the fit
items alone — the validation items' images unseen, as the blend will meet the products of a real shop.

Prints, per setting (light-correction strength, temperature, photo weight, packshot weight), colour P@5 on both
catalogs, type P@5 and exact R@1 (which the blend must not lower), the photos' colour accuracy and the pixel step's
cost. Not a test: numbers for the report and for the constants in engine/colour.py.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from engine import Engine, EngineConfig
from engine.attributes import Attributes
from engine.colour import batch_pixels, blend, colour_probabilities, garment_palette, packshot_palette
from engine.heads import FashionHead
from training.cache import ViewRecipe, compute_features, query_features
from training.data import load_labelled, load_rgb, split
from training.evaluation import judged, labelled
from training.fit import FitParams, fit_head
from training.foreign_feed import relabel
from training.metrics import attributes_rows, rank_catalog
from training.photo_sets import independent_queries
from training.pool_scores import PoolScores

log = logging.getLogger("tune_pixel_colour")

STRENGTHS = (0.0, 0.5)
TEMPERATURES = (3.0, 4.5)
PHOTO_WEIGHTS = (0.0, 0.35, 0.5, 0.65)
PACKSHOT_WEIGHTS = (0.0, 0.5)
SHARPNESS = (1.0, 1.5, 2.0, 3.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, default=Path("../shared/fashion-sample"))
    parser.add_argument("--cache", type=Path, default=Path("var/features"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    products = load_labelled(args.sample / "styles.csv")
    training, _ = split(products, 0.2, 0)  # the evaluation's hold-out stays out
    fit, validation = split(training, 0.15, 1)
    queries = independent_queries(validation, per_preset=2, seed=2)
    images = [query.image for query in queries if query.image is not None]
    log.info("%d validation photos of %d items; catalog: %d training items", len(queries), len(validation),
             len(training))

    engine = Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", artifact="auto"))
    assert engine.head is not None and engine.locator is not None, "needs the shipped head and the garment mask"
    shipped = engine.head.training
    head = _refit(engine, fit, shipped, args.cache)
    vocabularies = head.spec.vocabularies
    labels = vocabularies["colour"]
    weights = shipped.get("rerank", {})
    keep = int(shipped.get("rerank_keep_top", 0))

    catalog = compute_features(engine, {p.id: Path(p.image_link) for p in training}, ViewRecipe(views=0),
                               args.cache, progress=False).clean
    photos = query_features(engine, images, args.cache, "val-0")
    catalog_vectors, packshot_probabilities = head.infer(catalog)
    vectors, photo_probabilities = head.infer(photos)
    packshot_rows = attributes_rows(packshot_probabilities, vocabularies)

    masks = engine.locator.masks(images)
    mean, std = engine.data_config["mean"], engine.data_config["std"]
    packshot_pixels = [batch_pixels(engine.preprocess([load_rgb(p.image_link)]).numpy(), mean, std)[0]
                       for p in training]

    costs = []
    for image, mask in zip(images, masks, strict=True):
        started = time.perf_counter()
        colour_probabilities(garment_palette(image, mask), labels)
        costs.append((time.perf_counter() - started) * 1000)
    packshot_costs = []
    for pixels in packshot_pixels:
        started = time.perf_counter()
        colour_probabilities(packshot_palette(pixels), labels)
        packshot_costs.append((time.perf_counter() - started) * 1000)
    print(f"pixel colour cost, one core: photo p50 {statistics.median(costs):.1f} ms (p90 "
          f"{np.percentile(costs, 90):.1f}), packshot p50 {statistics.median(packshot_costs):.1f} ms")

    truth = [query.colour for query in queries]
    unseen = [i for i, p in enumerate(training) if p.id in {item.id for item in validation}]
    packshot_truth = [training[i].color or "" for i in unseen]
    unseen_packshots = packshot_probabilities["colour"][unseen]
    print(f"colour head top-1: validation photos {_accuracy(photo_probabilities['colour'], labels, truth):.3f}, "
          f"packshots of the validation items {_accuracy(unseen_packshots, labels, packshot_truth):.3f}")

    hits = rank_catalog(vectors, catalog_vectors, training, 100)
    foreign_products = relabel(training, seed=0)
    palettes = {strength: [garment_palette(image, mask, strength=strength) for image, mask in zip(images, masks,
                                                                                                  strict=True)]
                for strength in STRENGTHS}
    packshot_palettes = [packshot_palette(pixels) for pixels in packshot_pixels]
    print(f"photos without a usable garment mask: {sum(p is None for p in palettes[0.0])} of {len(images)}")

    results, labels_table = [], []
    for temperature in TEMPERATURES:
        packshot_pixel = [colour_probabilities(p, labels, temperature) for p in packshot_palettes]
        pools = {}
        for packshot_weight, sharpness in itertools.product(PACKSHOT_WEIGHTS, SHARPNESS):
            rows = [Attributes({**row.probabilities, "colour": blend(row.probabilities["colour"], seen, labels,
                                                                     packshot_weight, sharpness)})
                    for row, seen in zip(packshot_rows, packshot_pixel, strict=True)]
            pools[packshot_weight, sharpness] = (_relabelled(hits, labelled(training, rows)),
                                                 _relabelled(hits, labelled(foreign_products, rows)))
            foreign_labels = labelled([foreign_products[i] for i in unseen], [rows[i] for i in unseen])
            labels_table.append((temperature, packshot_weight, sharpness, _label_quality(foreign_labels,
                                                                                        packshot_truth)))
        for strength, photo_weight, sharpness in itertools.product(STRENGTHS, PHOTO_WEIGHTS, SHARPNESS):
            pixel = [colour_probabilities(p, labels, temperature) for p in palettes[strength]]
            colour = np.array([[blended[label] for label in labels] for blended in (
                blend(dict(zip(labels, map(float, row), strict=True)), seen, labels, photo_weight, sharpness)
                for row, seen in zip(photo_probabilities["colour"], pixel, strict=True))])
            probabilities = {**photo_probabilities, "colour": colour}
            for packshot_weight in PACKSHOT_WEIGHTS:
                native_hits, foreign_hits = pools[packshot_weight, sharpness]
                native = PoolScores(native_hits, queries, probabilities, vocabularies).scores(weights, keep)
                foreign = _foreign_scores(foreign_hits, training, queries, probabilities, vocabularies, weights, keep)
                results.append(((strength, temperature, photo_weight, packshot_weight, sharpness), native, foreign,
                                _accuracy(colour, labels, truth), _overconfidence(colour, labels, truth)))

    print("\nfeed labels of a foreign shop reconciled with the packshots of the validation items (never trained on):"
          "\n\n| T | packshot w | sharpness | colour labels right | wrong | missing |\n|---|---|---|---|---|---|")
    for temperature, packshot_weight, sharpness, (right, wrong, missing) in labels_table:
        print(f"| {temperature:g} | {packshot_weight:g} | {sharpness:g} | {right} | {wrong} | {missing} |")
    oracle = np.array([[float(label == colour) for label in labels] for colour in truth])
    ceiling = PoolScores(pools[0.0, 1.0][0], queries, {**photo_probabilities, "colour": oracle}, vocabularies)
    print(f"\nceiling (each photo's true colour as its colour probabilities, re-rank as shipped): colour P@5 "
          f"{ceiling.scores(weights, keep)['colour_p@5']:.3f}")
    print("\nobjective: type P@5 + colour P@5 / 2 (native; grid.py's weights for the metrics the blend can move)\n\n"
          "| strength | T | photo w | packshot w | sharpness | colour P@5 native | foreign | type P@5 | exact R@1 | "
          "colour top-1 | mean top p − top-1 | objective |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    baseline = next(r for r in results if r[0][2] == 0 and r[0][3] == 0 and r[0][4] == 1.0)
    ranked = sorted(results, key=lambda r: -(r[1]["type_p@5"] + r[1]["colour_p@5"] / 2))
    for (strength, temperature, photo_weight, packshot_weight, sharpness), native, foreign, accuracy, over in [
            baseline, *ranked[:30]]:
        print(f"| {strength:g} | {temperature:g} | {photo_weight:g} | {packshot_weight:g} | {sharpness:g} | "
              f"{native['colour_p@5']:.3f} | {foreign['colour_p@5']:.3f} | {native['type_p@5']:.3f} | "
              f"{native['exact_r@1']:.3f} | {accuracy:.3f} | {over:+.3f} | "
              f"{native['type_p@5'] + native['colour_p@5'] / 2:.3f} |")


def _label_quality(products, truth) -> tuple[int, int, int]:
    values = [(product.labels.get("colour") or {}).get("value") for product in products]
    return (sum(v == t for v, t in zip(values, truth, strict=True)),
            sum(v is not None and v != t for v, t in zip(values, truth, strict=True)), sum(v is None for v in values))


def _overconfidence(matrix: np.ndarray, labels, truth) -> float:
    """Mean top probability minus top-1 accuracy (what /style's percentages overstate)."""
    known = [i for i, t in enumerate(truth) if t in labels]
    return float(np.asarray(matrix)[known].max(axis=1).mean()) - _accuracy(np.asarray(matrix)[known], labels,
                                                                          [truth[i] for i in known])


def _refit(engine: Engine, fit, shipped: dict, cache: Path) -> FashionHead:
    """The shipped head's recipe (parameters, views, vocabularies, blend) fitted on ``fit`` alone; no real photos
    (they train the category head only). Kept beside the feature cache: a minute of CPU."""
    assert engine.head is not None
    path = cache / f"pixel-colour-refit-{engine.head.sha256[:12]}-{len(fit)}.pt"
    if path.is_file():
        return torch.load(path, weights_only=False)
    recipe = ViewRecipe(**shipped["recipe"])
    features = compute_features(engine, {p.id: Path(p.image_link) for p in fit}, recipe, cache, progress=False)
    params = replace(FitParams(**shipped["params"]), real_items=0)
    head = fit_head(features, fit, engine.head.head.spec.vocabularies, params)
    head = head.with_raw_weight(float(shipped.get("raw_weight", engine.head.head.spec.raw_weight)))
    torch.save(head, path)
    return head


def _relabelled(hits, catalog):
    by_id = {product.id: product for product in catalog}
    return [[replace(hit, product=by_id[hit.product.id]) for hit in row] for row in hits]


def _foreign_scores(foreign_hits, natives, queries, probabilities, vocabularies, weights, keep):
    """Re-ranked by the foreign labels, judged by the sample's (what `fashionbot eval` does for the foreign rows)."""
    pool = PoolScores(foreign_hits, queries, probabilities, vocabularies)
    judged_pool = PoolScores(judged(foreign_hits, natives), queries, {}, vocabularies)
    pool.agree = judged_pool.agree
    return pool.scores(weights, keep)


def _matrix(rows, labels) -> np.ndarray:
    return np.stack([row if row is not None else np.zeros(len(labels)) for row in rows])


def _accuracy(matrix: np.ndarray, labels, truth) -> float:
    predicted = [labels[i] for i in np.asarray(matrix).argmax(axis=1)]
    known = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in labels]
    return sum(t == p for t, p in known) / max(len(known), 1)


if __name__ == "__main__":
    main()
