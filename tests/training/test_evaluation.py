"""The never-worse check of `fashionbot eval`: the shipped model against the plain backbone's best framing, per row."""

from __future__ import annotations

import copy

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
