"""The fast re-rank scorer gives what re-ranking hit objects gives, for every setting the tuning tries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catalog.product import Product
from engine.heads import FashionHead, HeadSpec
from training.grid import Validation
from training.metrics import EvalQuery
from training.pool_scores import PoolScores

TYPES, COLOURS, GENDERS = ["Tshirts", "Jeans", "Heels"], ["Red", "Blue"], ["Men", "Women", "Unisex"]


@pytest.fixture(scope="module")
def validation() -> Validation:
    rng = np.random.default_rng(0)
    products = [Product(id=str(i), title="t", link=f"https://shop.example/{i}", image_link="/x.jpg",
                        color=COLOURS[i % 2], gender=GENDERS[i % 3], product_type=TYPES[i % 3]) for i in range(150)]
    catalog = rng.normal(size=(150, 32)).astype(np.float32)
    queries, features = [], []
    for j in range(60):
        i, real = int(rng.integers(150)), j >= 45
        queries.append(EvalQuery(f"real:{j}" if real else products[i].id, TYPES[i % 3], COLOURS[i % 2],
                                 GENDERS[i % 3], "real" if real else ("easy", "hard")[j % 2], None,
                                 article_types=(TYPES[i % 3], "Jeans") if real else (), exact=not real))
        features.append(catalog[i] + rng.normal(size=32) * 1.5)
    return Validation(catalog, products, np.array(features, np.float32), queries)


@pytest.mark.parametrize("raw_weight", [0.5, 1.0])
@pytest.mark.parametrize(("weights", "keep_top"), [({}, 0), ({"category": 0.4, "colour": 0.1}, 0),
                                                    ({"category": 0.4, "gender": 0.1}, 1), ({"category": 2.0}, 1)])
def test_pool_scores_agree_with_reranking_hits(validation, raw_weight, weights, keep_top):
    torch.manual_seed(0)
    head = FashionHead(HeadSpec(32, 16, 8, {"category": TYPES, "colour": COLOURS, "gender": GENDERS}))
    head = head.with_raw_weight(raw_weight)
    hits, probabilities = validation.hits(head)
    fast = PoolScores(hits, validation.queries, probabilities, head.spec.vocabularies).scores(weights, keep_top)
    slow = validation._score(hits, probabilities, head, weights, keep_top)
    assert set(fast) == {"type_p@5", "colour_p@5", "gender_p@5", "exact_r@1", "real_type_p@5"}
    assert fast == pytest.approx({name: slow[name] for name in fast}, abs=1e-12)
