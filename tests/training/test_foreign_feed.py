"""The sample relabelled as a foreign shop's feed: same products and images, none of the sample's label words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from training.foreign_feed import GOOGLE_CATEGORIES, KINDS, relabel
from training.metrics import query_labels

TAXONOMY = Path(__file__).resolve().parents[3] / "shared" / "google-product-taxonomy" / "taxonomy-with-ids.en-US.txt"
GMC_GENDERS = {"female", "male", "unisex", None}


def words(text: str | None) -> set[str]:
    return set(re.findall(r"\w+", (text or "").lower()))


@pytest.fixture(scope="module")
def relabelled(demo_products):
    return relabel(demo_products, seed=0)


def test_the_same_seed_gives_the_same_feed_and_another_seed_another(demo_products, relabelled):
    assert relabel(demo_products, seed=0) == relabelled
    other = relabel(demo_products, seed=1)
    assert sum(a != b for a, b in zip(other, relabelled, strict=True)) > len(relabelled) // 2


def test_every_product_and_image_is_kept_in_order(demo_products, relabelled):
    assert [(p.id, p.link, p.image_link, p.additional_image_links, p.price) for p in relabelled] == [
        (p.id, p.link, p.image_link, p.additional_image_links, p.price) for p in demo_products]


def test_every_label_field_is_in_other_words(demo_products, relabelled):
    for native, foreign in zip(demo_products, relabelled, strict=True):
        kind, colour, gender = query_labels(native)
        assert not words(foreign.color) & words(colour), (native.id, foreign.color)
        assert foreign.gender in GMC_GENDERS and foreign.age_group == ("kids" if gender in ("Boys", "Girls")
                                                                       else "adult")
        assert not words(foreign.product_type) & words(native.product_type), (native.id, foreign.product_type)
        assert not words(foreign.title) & (words(kind) | words(colour) | words(gender)), (native.id, foreign.title)
        assert foreign.extra == {} and foreign.labels == {}  # no usage column, no article_type, nothing normalised


def test_the_feed_is_as_uneven_as_a_shops(relabelled):
    """Ids for some products, paths for others, and some products without a kind, a colour or a gender."""
    categories = [p.google_product_category for p in relabelled]
    assert 0.3 < sum(c is not None and c.isdigit() for c in categories) / len(categories) < 0.6
    assert 0.3 < sum(c is not None and not c.isdigit() for c in categories) / len(categories) < 0.6
    assert 0 < sum(c is None for c in categories) < len(categories) * 0.2
    assert 0 < sum(p.color is None for p in relabelled) < len(relabelled) * 0.3
    assert 0 < sum(p.gender is None for p in relabelled) < len(relabelled) * 0.2
    assert 0 < sum(">" not in (p.product_type or "") for p in relabelled) < len(relabelled) * 0.15
    languages = {"ru": r"[а-я]", "es": r"(Mujer|Hombre|Ropa|Calzado|Niños|Accesorios) >", "en": r"wear >|kicks >"}
    for language, pattern in languages.items():
        assert any(re.search(pattern, p.product_type or "") for p in relabelled), language


def test_every_google_category_is_a_real_taxonomy_line(relabelled):
    if not TAXONOMY.is_file():
        pytest.skip(f"{TAXONOMY} is not here")
    taxonomy = dict(line.split(" - ", 1) for line in TAXONOMY.read_text(encoding="utf-8").splitlines()
                    if line[:1].isdigit())
    assert all(taxonomy[str(gpc_id)] == path for gpc_id, path in GOOGLE_CATEGORIES.items())
    assert {gpc_id for gpc_id, *_ in KINDS.values() if gpc_id is not None} <= set(GOOGLE_CATEGORIES)
    paths = set(taxonomy.values())
    for product in relabelled:
        category = product.google_product_category
        assert category is None or category in taxonomy or category in paths, (product.id, category)
