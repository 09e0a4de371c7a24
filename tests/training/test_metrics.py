"""Evaluation metrics and exact cosine ranking, on hand-made cases whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.product import Product
from index import SearchHit
from tests.auxil.fakes import labelled as product
from training.metrics import EvalQuery, head_accuracy, rank_catalog, retrieval_metrics


def query(pid: str, article_type: str, colour: str = "Red", gender: str = "Men", preset: str = "easy") -> EvalQuery:
    return EvalQuery(pid, article_type, colour, gender, preset, None)


def hits(*products: Product) -> list[SearchHit]:
    return [SearchHit(p, 1.0 - 0.1 * rank, rank) for rank, p in enumerate(products)]


def test_precision_excludes_the_photographed_item_and_recall_finds_it():
    a, b = product("a", "Tshirts"), product("b", "Tshirts", "Blue")
    c, d = product("c", "Jeans"), product("d", "Tshirts")
    # The photo of "a": the catalog answers a (itself), c, b, d.
    metrics = retrieval_metrics([query("a", "Tshirts")], [hits(a, c, b, d)], k=2)["easy"]
    # Others shown: c, b (top 2): type matches b only → 1/2; colour: c Red, b Blue → 1/2; gender both → 1.
    assert metrics["type_p@2"] == pytest.approx(0.5)
    assert metrics["colour_p@2"] == pytest.approx(0.5)
    assert metrics["gender_p@2"] == pytest.approx(1.0)
    # AP over others c, b, d with relevance [0, 1, 1]: (1/2 + 2/3) / 2.
    assert metrics["type_map@10"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert metrics["exact_r@1"] == 1.0 and metrics["exact_r@10"] == 1.0


def test_metrics_average_per_preset_and_count_a_missed_item():
    a, b, c = product("a", "Tshirts"), product("b", "Tshirts"), product("c", "Jeans")
    queries = [query("a", "Tshirts"), query("a", "Tshirts", preset="hard"), query("x", "Jeans", preset="hard")]
    results = [hits(a, b), hits(b, a), hits(b, c)]
    metrics = retrieval_metrics(queries, results, k=1)
    assert metrics["easy"]["exact_r@1"] == 1.0
    assert metrics["hard"]["exact_r@1"] == 0.0 and metrics["hard"]["exact_r@10"] == pytest.approx(0.5)
    assert metrics["hard"]["type_p@1"] == pytest.approx(0.5)  # "b" is a Tshirt (right), "b" for Jeans (wrong)


def test_rank_catalog_is_exact_cosine_order():
    catalog = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    products = [product(str(i), "Tshirts") for i in range(3)]
    ranked = rank_catalog(np.array([[0.8, 0.6]], np.float32), catalog, products, k=3)[0]
    # Cosines with (0.8, 0.6): 0.8, 0.6, 0.96.
    assert [h.product.id for h in ranked] == ["2", "0", "1"]
    assert [h.rank for h in ranked] == [0, 1, 2]
    assert [h.score for h in ranked] == pytest.approx([0.96, 0.8, 0.6])


def test_head_accuracy_per_class_and_unknown_labels():
    labels = ["Jeans", "Tshirts"]
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.5, 0.5]])
    result = head_accuracy(["Jeans", "Tshirts", "Tshirts", "Kurtas"], probabilities, labels)
    assert result["scored"] == 3 and result["unknown"] == 1
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["per_class"] == {"Jeans": (1.0, 1), "Tshirts": (0.5, 2)}


