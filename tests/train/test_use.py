"""Using a head: /style from the heads, re-ranked search with consistent pages, and the embedding map files."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.heads import Attributes
from fashionbot.service import Guess, Query, Recommender, head_style
from fashionbot.settings import EngineSettings
from index import SearchHit

from .test_metrics import product

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


def recommender(rerank: bool) -> Recommender:
    engine = SimpleNamespace(head=SimpleNamespace(training={"rerank": {"category": 0.3, "colour": 0.0}}))
    return Recommender(engine, EngineSettings(rerank=rerank, _env_file=None), FakeIndex())


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


@pytest.mark.slow
def test_map_and_projector_export(tmp_path, tiny_catalog):
    from fashionbot.embedding_map import draw_map, export_projector, layout_2d

    products = tiny_catalog[:12]
    vectors = np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32)
    points = layout_2d(vectors)
    assert points.shape == (12, 2)
    assert draw_map(points, products, tmp_path / "map.png", "test", mosaic=True).stat().st_size > 1000
    directory = export_projector(vectors, products, tmp_path / "projector", thumbnail=16)
    assert len((directory / "vectors.tsv").read_text().splitlines()) == 12
    metadata = (directory / "metadata.tsv").read_text().splitlines()
    assert metadata[0].startswith("id\tcategory") and len(metadata) == 13
    assert "single_image_dim: 16" in (directory / "projector_config.pbtxt").read_text()


def test_deep_pages_past_the_rerank_pool_neither_repeat_nor_skip():
    from fashionbot.rerank import RERANK_POOL, RerankPolicy, ranked_search

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
