"""Re-ranking by a head's predicted attributes, and /style from the heads: worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.attributes import Attributes
from index import SearchHit
from recommender import CatalogRecommender, Guess, Query
from recommender.rerank import rerank
from recommender.settings import RecommenderSettings
from recommender.style import head_style
from tests.auxil.fakes import labelled as product

ATTRIBUTES = Attributes({"category": {"Jeans": 0.2, "Tshirts": 0.8}, "colour": {"Red": 0.6, "Blue": 0.4},
                         "gender": {"Men": 0.9, "Women": 0.1}})


def test_style_comes_from_the_heads_with_confidence():
    style = head_style(ATTRIBUTES)
    assert style.category == Guess("Tshirts", 0.8) and style.colour == Guess("Red", 0.6)
    assert style.gender == Guess("Men", 0.9) and style.usage is None


class FakeIndex:
    """Nearest first: jeans look closest, t-shirts a little further."""

    def __init__(self) -> None:
        self.products = [product(f"j{i}", "Jeans") for i in range(3)] + [product(f"t{i}", "Tshirts") for i in range(3)]

    def search(self, vectors, k, offset=0, filters=None):
        hits = [SearchHit(p, 0.9 - 0.01 * rank, rank) for rank, p in enumerate(self.products)]
        return [hits[offset:offset + k]]

    def close(self) -> None:
        pass


def recommender(rerank: bool) -> CatalogRecommender:
    engine = SimpleNamespace(head=SimpleNamespace(training={"rerank": {"category": 0.3, "colour": 0.0}}))
    return CatalogRecommender(engine, RecommenderSettings(rerank=rerank, _env_file=None), FakeIndex())


async def test_search_reranks_by_predicted_category_and_pages_stay_consistent():
    service = recommender(rerank=True)
    assert service.rerank.weights == {"category": 0.3}
    query = Query(np.zeros(4, np.float32), ATTRIBUTES)
    first, second = await service.search(query, 3), await service.search(query, 3, offset=3)
    assert [h.product.id for h in first] == ["t0", "t1", "t2"]
    assert [h.product.id for h in second] == ["j0", "j1", "j2"]
    # Without attributes (no head) or with re-ranking switched off, the visual order stands.
    assert [h.product.id for h in await service.search(Query(np.zeros(4, np.float32)), 3)] == ["j0", "j1", "j2"]
    assert [h.product.id for h in await recommender(rerank=False).search(query, 3)] == ["j0", "j1", "j2"]
    await service.aclose()


def test_deep_pages_past_the_rerank_pool_neither_repeat_nor_skip():
    from recommender.rerank import RERANK_POOL, RerankPolicy, ranked_search

    class DeepIndex(FakeIndex):
        def __init__(self) -> None:
            self.products = [product(f"p{i}", "Jeans" if i % 2 else "Tshirts") for i in range(RERANK_POOL + 30)]

    index, policy = DeepIndex(), RerankPolicy({"category": 0.3})
    query = Query(np.zeros(4, np.float32), ATTRIBUTES)
    pages = [ranked_search(index, query.vector, query.attributes, 7, offset, policy=policy)
             for offset in range(0, RERANK_POOL + 30, 7)]
    ids = [hit.product.id for page in pages for hit in page]
    assert sorted(ids) == sorted(p.id for p in index.products)
    assert [hit.rank for page in pages for hit in page] == list(range(len(ids)))


def test_rerank_moves_the_predicted_category_up_scores_by_the_ranking_and_keeps_the_similarity():
    jeans, tee = product("j", "Jeans"), product("t", "Tshirts")
    first = [SearchHit(jeans, 0.80, 0), SearchHit(tee, 0.75, 1)]
    sure_tee = Attributes({"category": {"Tshirts": 0.9, "Jeans": 0.1}})
    reordered = rerank(first, sure_tee, {"category": 0.2})
    assert [h.product.id for h in reordered] == ["t", "j"] and [h.rank for h in reordered] == [0, 1]
    assert [h.score for h in reordered] == pytest.approx([0.75 + 0.2 * 0.9, 0.80 + 0.2 * 0.1])
    assert [h.similarity for h in reordered] == [0.75, 0.80]  # the visual cosine, in its own field
    assert [h.product.id for h in rerank(first, sure_tee, {"category": 0.0})] == ["j", "t"]


def test_scores_descend_even_where_the_visual_top_hit_is_kept_in_place():
    jeans, tee, tee2 = product("j", "Jeans"), product("t", "Tshirts"), product("u", "Tshirts")
    first = [SearchHit(jeans, 0.80, 0), SearchHit(tee, 0.79, 1), SearchHit(tee2, 0.78, 2)]
    sure_tee = Attributes({"category": {"Tshirts": 0.9, "Jeans": 0.1}})
    for keep_top in (0, 1, 2):
        hits = rerank(first, sure_tee, {"category": 0.5}, keep_top=keep_top)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True), (keep_top, hits)
        assert {h.product.id: h.similarity for h in hits} == {"j": 0.80, "t": 0.79, "u": 0.78}


def test_rerank_can_keep_the_visual_top_hit_in_place():
    jeans, tee, tee2 = product("j", "Jeans"), product("t", "Tshirts"), product("u", "Tshirts")
    first = [SearchHit(jeans, 0.95, 0), SearchHit(tee, 0.75, 1), SearchHit(tee2, 0.74, 2)]
    sure_tee = Attributes({"category": {"Tshirts": 0.9, "Jeans": 0.1}})
    assert [h.product.id for h in rerank(first, sure_tee, {"category": 0.5})] == ["t", "u", "j"]
    assert [h.product.id for h in rerank(first, sure_tee, {"category": 0.5}, keep_top=1)] == ["j", "t", "u"]
