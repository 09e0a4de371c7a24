"""Shop the look in the recommender: each region's query leans toward its kind, a person's photo gets its garments'
regions in the sender's pixels, and a photo without a person is the one region "whole", searched as before."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from catalog import Product
from engine.attributes import Attributes
from index import CatalogIndex, SearchHit
from recommender import CatalogRecommender, Query, RecommenderSettings, build_index
from recommender.protocol import REGION_NAMES
from recommender.regions import (
    PRIOR,
    PRIOR_WEIGHT,
    REGION_KINDS,
    photo_size,
    policy_for,
    region_labels,
    restricted,
    wears_one_piece,
    with_prior,
)
from recommender.rerank import RerankPolicy, rerank

REPO = Path(__file__).resolve().parents[2]
DEMO_PHOTOS = REPO / "demo" / "photos"


def head_says(category: dict[str, float], sub_category: dict[str, float]) -> Query:
    return Query(np.ones(4, np.float32), Attributes({"category": category, "sub_category": sub_category,
                                                     "colour": {"Red": 0.7, "Blue": 0.3}}), "engine-1")


def test_every_region_searches_toward_kinds_of_the_vocabulary() -> None:
    assert set(REGION_KINDS) | {"whole", "bag"} == set(REGION_NAMES)
    assert {"Tshirts", "Shirts", "Kurtas"} <= set(region_labels("top"))
    assert set(region_labels("bottom")) >= {"Jeans", "Skirts", "Trousers"} and "Dresses" in region_labels("full")
    assert set(region_labels("shoes")) == {"Casual Shoes", "Flats", "Formal Shoes", "Heels", "Sports Shoes",
                                           "Sandals", "Flip Flops"}


@pytest.mark.parametrize(("region", "category", "kept"), [
    ("bottom", {"Tshirts": 0.6, "Jeans": 0.3, "Skirts": 0.1}, {"Jeans": 0.75, "Skirts": 0.25}),
    ("top", {"Tshirts": 0.6, "Jeans": 0.3, "Skirts": 0.1}, {"Tshirts": 1.0}),
    ("shoes", {"Tshirts": 0.9, "Heels": 0.05, "Sandals": 0.05}, {"Heels": 0.5, "Sandals": 0.5}),
])
def test_the_prior_keeps_the_regions_kinds_and_renormalises(region: str, category, kept) -> None:
    query = head_says(category, {"Topwear": 0.6, "Bottomwear": 0.4})
    leaning = with_prior(query, region)
    got = {label: p for label, p in leaning.attributes.probabilities["category"].items() if p > 0}
    assert got == pytest.approx(kept)
    assert sum(leaning.attributes.probabilities["sub_category"].values()) == pytest.approx(1.0)
    assert leaning.attributes.probabilities["colour"] == query.attributes.probabilities["colour"]  # untouched
    assert leaning.vector is query.vector and leaning.fingerprint == query.fingerprint
    kinds = REGION_KINDS[region]
    assert leaning.attributes.probabilities[PRIOR] == {kind: pytest.approx(1 / len(kinds)) for kind in kinds}


def test_a_regions_query_is_reranked_toward_its_kind_and_other_queries_as_before() -> None:
    shipped = RerankPolicy({"category": 0.4, "colour": 0.2}, keep_top=1)
    whole = head_says({"Tshirts": 1.0}, {"Topwear": 1.0})
    assert policy_for(whole, shipped) is shipped and policy_for(whole, None) is None
    region = policy_for(with_prior(whole, "bottom"), shipped)
    assert region == RerankPolicy({"category": 0.4, "colour": 0.2, PRIOR: PRIOR_WEIGHT}, keep_top=0)


def test_a_prior_the_head_gave_nothing_to_is_uniform_and_without_a_head_nothing_changes() -> None:
    assert restricted({"A": 1.0, "B": 0.0, "C": 0.0}, {"B", "C"}) == {"A": 0.0, "B": 0.5, "C": 0.5}
    assert restricted({"A": 1.0}, {"B", "C"}) == {"A": 0.0, "B": 0.5, "C": 0.5}
    plain = Query(np.ones(4, np.float32), None, "engine-1")
    assert with_prior(plain, "top") is plain


def test_the_prior_puts_the_regions_kind_first_over_a_nearer_product_of_another_kind() -> None:
    def product(pid: str, path: str) -> Product:
        return Product(id=pid, title=pid, link=f"https://shop.example/{pid}", image_link=f"/x/{pid}.jpg",
                       product_type=path, extra={"article_type": path.rsplit(" > ", 1)[-1]})

    hits = [SearchHit(product("tee", "Apparel > Topwear > Tshirts"), 0.80, 0),  # the top over the jeans
            SearchHit(product("jeans", "Apparel > Bottomwear > Jeans"), 0.70, 1)]
    shipped = RerankPolicy({"category": 0.4}, keep_top=1)
    crop = head_says({"Tshirts": 0.7, "Jeans": 0.3}, {"Topwear": 0.7, "Bottomwear": 0.3})
    assert [hit.product.id for hit in rerank(hits, crop.attributes, shipped.weights, shipped.keep_top)] == [
        "tee", "jeans"]  # searched as a whole photo: the nearest stays first
    bottom = with_prior(crop, "bottom")
    policy = policy_for(bottom, shipped)
    assert [hit.product.id for hit in rerank(hits, bottom.attributes, policy.weights, policy.keep_top)] == [
        "jeans", "tee"]


@pytest.mark.parametrize(("sub_category", "one_piece"), [
    ({"Dress": 0.7, "Topwear": 0.3}, True), ({"Dress": 0.3, "Saree": 0.25, "Topwear": 0.45}, True),
    ({"Topwear": 0.8, "Dress": 0.2}, False),
])
def test_a_one_piece_is_the_heads_call_on_the_one_piece_box(sub_category, one_piece: bool) -> None:
    assert wears_one_piece(head_says({"Dresses": 1.0}, sub_category)) is one_piece
    assert wears_one_piece(None) is False
    assert wears_one_piece(Query(np.ones(4, np.float32))) is False  # no head, no call


def test_boxes_are_in_the_senders_pixels(test_data: Path) -> None:
    sideways = (test_data / "exif-rotated.jpg").read_bytes()  # stored 80×60, shown upright 60×80
    assert photo_size(sideways, Image.new("RGB", (60, 80))) == (60, 80)
    big = io.BytesIO()
    Image.new("RGB", (2000, 1000)).save(big, "JPEG")
    assert photo_size(big.getvalue(), Image.new("RGB", (500, 250))) == (2000, 1000)  # decoded at a quarter


@pytest.fixture(scope="module")
def head_index(tmp_path_factory, small_feed: Path, head_engine) -> Path:
    index_dir = tmp_path_factory.mktemp("regions") / "index"
    build_index(small_feed, index_dir, head_engine)
    return index_dir


@pytest.fixture
async def recommender(tmp_path: Path, head_index: Path, small_feed: Path, head_engine):
    settings = RecommenderSettings(index=head_index, catalog=small_feed, cache_dir=tmp_path / "cache",
                                   _env_file=None)
    opened = CatalogRecommender(head_engine, settings, CatalogIndex.open(head_index, head_engine.fingerprint))
    yield opened
    await opened.aclose()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.slow
async def test_a_person_gets_the_regions_of_what_they_wear(recommender: CatalogRecommender) -> None:
    from skimage import data

    [top] = await recommender.photo_regions(png(Image.fromarray(data.astronaut())))
    assert top.name == "top" and top.box[3] == 512 and 0 < top.prominence < 1
    assert top.query.fingerprint == recommender.fingerprint
    assert top.query.attributes is not None
    assert set(top.query.attributes.probabilities["sub_category"]) >= {"Topwear"}
    assert top.query.attributes.top("sub_category") == ("Topwear", pytest.approx(1.0))
    style = await recommender.style(top.query)
    assert style.category is not None and style.category.value in region_labels("top")
    regions = await recommender.photo_regions((DEMO_PHOTOS / "dress-37936.jpg").read_bytes())
    assert regions[0].name == "full" and "top" not in {region.name for region in regions}  # a dress is one piece
    hits = await recommender.search(regions[0].query, 3)
    assert len(hits) == 3


@pytest.mark.slow
async def test_a_photo_without_a_person_is_the_whole_photo_searched_as_before(
        recommender: CatalogRecommender) -> None:
    photo = (DEMO_PHOTOS / "heels-17662.jpg").read_bytes()
    [whole] = await recommender.photo_regions(photo)
    plain = await recommender.photo(photo)
    assert (whole.name, whole.box, whole.prominence) == ("whole", (0, 0, 480, 360), 1.0)
    np.testing.assert_allclose(whole.query.vector, plain.vector, atol=1e-6)
    assert whole.query.attributes == plain.attributes


@pytest.mark.slow
async def test_without_the_pose_models_every_photo_is_whole(recommender: CatalogRecommender, monkeypatch,
                                                            caplog) -> None:
    from skimage import data

    from engine.pose import PoseLocator, PoseModelUnavailableError

    def missing(cls, threads=None):
        raise PoseModelUnavailableError("the pose model models/pose/pose_detection.onnx is missing")

    monkeypatch.setattr(PoseLocator, "load", classmethod(missing))
    [region] = await recommender.photo_regions(png(Image.fromarray(data.astronaut())))
    assert (region.name, region.box) == ("whole", (0, 0, 512, 512))
    assert "no garment regions" in caplog.text
