"""A tiny labelled catalog (6 categories × 6 demo items) and its feature cache, shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY_TYPES = ("Tshirts", "Shirts", "Casual Shoes", "Heels", "Kurtas", "Jeans")


@pytest.fixture(scope="session")
def tiny_catalog(demo_products):
    """36 demo products, 6 of each of 6 visually distinct categories."""
    picked = []
    for article_type in TINY_TYPES:
        members = [p for p in demo_products if p.extra.get("article_type") == article_type]
        assert len(members) >= 6, article_type
        picked += sorted(members, key=lambda p: int(p.id))[:6]
    return picked


@pytest.fixture(scope="session")
def tiny_features(engine, tiny_catalog, tmp_path_factory):
    from training.cache import ViewRecipe, compute_features

    recipe = ViewRecipe(views=3, seed=7)
    root = tmp_path_factory.mktemp("features")
    return compute_features(engine, {p.id: Path(p.image_link) for p in tiny_catalog}, recipe, root,
                            progress=False), recipe, root
