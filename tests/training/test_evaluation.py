"""The never-worse check of `fashionbot eval`: the shipped model against the plain backbone's best framing, per row."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import numpy as np
import pytest

from training.evaluation import SHIPPED, SampleEvaluation


def evaluation(shipped_hard_r1: float) -> SampleEvaluation:
    table = {
        "plain lite0, whole": {"indep-hard": {"exact_r@1": 0.30, "type_p@5": 0.40}, "real": {"type_p@5": 0.31}},
        "plain lite0, centre+garment": {"indep-hard": {"exact_r@1": 0.35, "type_p@5": 0.38},
                                        "real": {"type_p@5": 0.33}},
        SHIPPED: {"indep-hard": {"exact_r@1": shipped_hard_r1, "type_p@5": 0.60}, "real": {"type_p@5": 0.55}},
    }
    return SampleEvaluation(table, {}, ["note"], closeness={"floor": 0.4, "real garment photos": 0.02})


def test_each_row_is_compared_with_the_best_plain_framing():
    rows = {(preset, metric): (plain, shipped) for preset, metric, plain, shipped in evaluation(0.5).comparison()}
    assert rows == {("indep-hard", "exact_r@1"): (0.35, 0.5), ("indep-hard", "type_p@5"): (0.40, 0.60),
                    ("real", "type_p@5"): (0.33, 0.55)}


def test_a_single_worse_row_fails_the_verdict_and_is_marked():
    good, bad = evaluation(0.35), evaluation(0.34)
    assert good.never_worse() and not bad.never_worse()
    report = bad.report()
    assert "WORSE" in report and "| indep-hard | exact_r@1 | 0.350 | 0.340 | -0.010 ✗ |" in report
    table_before = copy.deepcopy(good.table)
    assert "matches or beats" in good.report() and "WORSE" not in good.report()
    assert good.table == table_before and good.never_worse()  # reporting changes nothing it reports on


def with_foreign(foreign_type_p5: float) -> SampleEvaluation:
    result = evaluation(0.5)
    result.foreign = {name: copy.deepcopy(rows) for name, rows in result.table.items() if name.startswith("plain")}
    result.foreign[SHIPPED] = {"indep-hard": {"exact_r@1": 0.5, "type_p@5": foreign_type_p5, "colour_p@5": 0.3},
                               "real": {"type_p@5": 0.55}}
    result.table[SHIPPED]["indep-hard"]["colour_p@5"] = 0.3
    return result


def test_foreign_rows_are_printed_beside_the_native_ones_and_judged_against_them():
    close, far = with_foreign(0.595), with_foreign(0.585)
    assert ("shipped: head + re-rank", "indep-hard", "type_p@5", 0.60, 0.595) in close.vocabulary_gap()
    assert close.foreign_as_good() and not far.foreign_as_good()
    report = far.report()
    assert "| shipped: head + re-rank | indep-hard | 0.600 | 0.585 | -0.015 ✗ | 0.300 | 0.300 | +0.000 |" in report
    assert "costs more than 0.01" in report and "costs at most 0.01" in close.report()
    assert "never worse than the plain backbone (its best framing per row), foreign vocabulary" in report


def test_a_foreign_catalog_worse_than_the_plain_backbone_fails_the_never_worse_verdict():
    assert with_foreign(0.41).never_worse() and not with_foreign(0.39).never_worse()
    assert "| indep-hard | type_p@5 | 0.400 | 0.390 | -0.010 ✗ |" in with_foreign(0.39).report()


def test_a_foreign_catalog_labelled_as_a_build_labels_it_ranks_as_the_native_one():
    """Re-ranking reads the labels the build gives the relabelled products, and the hits are judged as the
    sample's own products: the same answers, whatever the shop calls its products."""
    from catalog.product import Product
    from engine.attributes import Attributes
    from training.evaluation import judged, labelled, shipped_ranking
    from training.foreign_feed import relabel

    def product(pid: str, kind: str, colour: str) -> Product:
        return Product(pid, f"Acme {pid}", f"https://shop.example/{pid}", f"/img/{pid}.jpg", color=colour,
                       gender="Men", product_type=f"Apparel > Topwear > {kind}", extra={"article_type": kind})

    natives = [product("1", "Tshirts", "Red"), product("2", "Jeans", "Blue"), product("3", "Tshirts", "Blue")]
    foreign = relabel(natives)
    packshots = [Attributes({"category": {p.extra["article_type"]: 0.95, "Shirts": 0.05},
                             "colour": {p.color or "": 0.9, "Black": 0.1}}) for p in natives]
    catalog_vectors = np.array([[0.7, 0.7], [1.0, 0.0], [0.8, 0.6]], np.float32)  # visually: 2, 3, 1
    photo = np.array([[1.0, 0.0]], np.float32)
    wants = [Attributes({"category": {"Tshirts": 0.9, "Jeans": 0.1}, "colour": {"Red": 0.8, "Blue": 0.2}})]
    weights = {"category": 0.4, "colour": 0.2}

    def ranked(catalog):
        hits = judged(shipped_ranking(photo, catalog_vectors, catalog, wants, weights, 0), natives)
        assert all(hit.product in natives for hit in hits[0])
        return [hit.product.id for hit in hits[0]]

    assert ranked(labelled(natives, packshots)) == ranked(labelled(foreign, packshots)) == ["1", "3", "2"]
    assert ranked(foreign) == ["2", "3", "1"]  # the shop's words alone: nothing to re-rank by


@pytest.mark.slow
def test_eval_scores_the_foreign_catalog_of_a_tiny_sample(tiny_catalog, tmp_path):
    from engine.config import DEFAULT_ARTIFACT
    from training.evaluation import FOREIGN, evaluate_sample

    sample = tmp_path / "sample"
    (sample / "images").mkdir(parents=True)
    with open(sample / "styles.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "gender", "masterCategory", "subCategory", "articleType", "baseColour", "season",
                         "year", "usage", "productDisplayName"])
        for product in tiny_catalog:
            master, sub, kind = (product.product_type or "").split(" > ")
            writer.writerow([product.id, product.gender, master, sub, kind, product.color, "", "",
                             product.extra.get("usage", ""), product.title])
            (sample / "images" / f"{product.id}.jpg").symlink_to(Path(product.image_link))
    result = evaluate_sample(sample, device="cpu", artifact=DEFAULT_ARTIFACT, real_photos=None,
                             cache_root=tmp_path / "features", out_dir=tmp_path / "eval")
    plain = [name for name in result.table if name.startswith("plain")]
    assert set(result.foreign) == {*plain, SHIPPED}
    assert all(result.foreign[name] == result.table[name] for name in plain)  # no labels in a visual ranking
    assert {preset for preset in result.foreign[SHIPPED]} == {"easy", "hard", "indep-easy", "indep-hard"}
    coverage = {row.name: row for row in result.coverage}
    foreign = coverage[f"sample, {FOREIGN}"]
    assert foreign.products == len(tiny_catalog) and foreign.counts["category"]["image"] > 0
    report = result.report()
    assert "native vs foreign vocabulary" in report and f"| sample, {FOREIGN} | 36 (36) | category |" in report
