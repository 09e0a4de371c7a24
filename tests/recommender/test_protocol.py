"""The Recommender protocol: the real class and the tests' double offer the same members, signature for signature."""

from __future__ import annotations

import inspect

import pytest

from recommender import CatalogRecommender, Recommender
from tests.auxil.fakes import FakeRecommender

MEMBERS = sorted(name for name in vars(Recommender) if not name.startswith("_"))


def test_the_protocol_names_what_every_front_door_uses() -> None:
    assert MEMBERS == ["aclose", "build_id", "collection_query", "fingerprint", "labels", "min_similarity", "photo",
                       "photo_regions", "product_query", "products_served", "reindex", "reindexing", "search", "style"]


@pytest.mark.parametrize("implementation", [CatalogRecommender, FakeRecommender])
@pytest.mark.parametrize("member", MEMBERS)
def test_each_implementation_matches_the_protocol(implementation: type, member: str) -> None:
    wanted, offered = inspect.getattr_static(Recommender, member), inspect.getattr_static(implementation, member)
    if isinstance(wanted, property):
        assert isinstance(offered, property)
        return
    assert inspect.iscoroutinefunction(offered) == inspect.iscoroutinefunction(wanted)
    assert _shape(offered) == _shape(wanted), f"{implementation.__name__}.{member}"


def test_the_double_is_a_recommender(tmp_path) -> None:
    from tests.auxil.fakes import make_catalog

    assert isinstance(FakeRecommender(make_catalog(tmp_path)), Recommender)


def _shape(function) -> list[tuple[str, object, object]]:
    """Parameter names, kinds and defaults; annotations are strings here (``from __future__ import annotations``)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]
