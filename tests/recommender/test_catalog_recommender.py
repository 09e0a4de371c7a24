"""The real CatalogRecommender on a tiny real index: mixed batches, and a rebuild under its lock, swapped in whole."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from catalog import read_feed, write_feed_csv
from engine import ImageDecodeError
from index import CatalogIndex
from recommender import CatalogRecommender, Query, RecommenderSettings, ReindexInProgressError, build_index

pytestmark = pytest.mark.slow


@pytest.fixture
async def recommender(tmp_path: Path, small_feed: Path, engine):
    index_dir = tmp_path / "index"
    build_index(small_feed, index_dir, engine)
    settings = RecommenderSettings(index=index_dir, catalog=small_feed, cache_dir=tmp_path / "cache",
                                   _env_file=None)
    opened = CatalogRecommender(engine, settings, CatalogIndex.open(index_dir, engine.fingerprint))
    yield opened
    await opened.aclose()


async def test_a_mixed_batch_answers_the_good_photos_and_refuses_the_bad_ones(
        recommender: CatalogRecommender, small_feed: Path, test_data: Path) -> None:
    product = read_feed(small_feed).products[3]
    good = Path(product.image_link).read_bytes()
    blobs = [good, (test_data / "truncated.jpg").read_bytes(), (test_data / "shoe.webp").read_bytes(),
             b"", (test_data / "not-an-image.txt").read_bytes()]
    outcomes = await asyncio.gather(*(recommender.photo(blob) for blob in blobs), return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [Query, ImageDecodeError, Query, ImageDecodeError,
                                                       ImageDecodeError]
    # Each photo decodes on its own thread as it arrives; the two good ones reach the model in one or two passes,
    # the three bad ones never reach it.
    assert 1 <= recommender._batcher.batches_run <= 2
    [first] = await recommender.search(outcomes[0], 1)
    assert first.product.id == product.id


async def test_every_query_carries_its_engine_and_another_engines_is_never_searched(
        recommender: CatalogRecommender, small_feed: Path) -> None:
    product = read_feed(small_feed).products[3]
    queries = [await recommender.photo(Path(product.image_link).read_bytes()),
               await recommender.product_query(product.id), await recommender.collection_query("any")]
    assert {query.fingerprint for query in queries if query is not None} == {recommender.engine.fingerprint}
    retrained = replace(queries[0], fingerprint="a-retrained-head")  # same width: FAISS alone would take it
    with pytest.raises(ValueError, match="cannot search"):
        await recommender.search(retrained, 1)


async def test_a_rebuild_serves_the_old_index_until_it_swaps_and_runs_one_at_a_time(
        recommender: CatalogRecommender, small_feed: Path, tmp_path: Path) -> None:
    old = read_feed(small_feed).products
    smaller = tmp_path / "smaller.csv"
    write_feed_csv(old[:12], smaller)
    query = await recommender.photo(Path(old[20].image_link).read_bytes())
    building = asyncio.Event()

    rebuild = asyncio.create_task(recommender.reindex(smaller, progress=lambda update: building.set()))
    await asyncio.wait_for(building.wait(), 60)
    assert recommender.reindexing
    with pytest.raises(ReindexInProgressError):
        await recommender.reindex(smaller)
    during = await recommender.search(query, 1)
    assert during[0].product.id == old[20].id  # the old index still serves, whole

    report = await rebuild
    assert report.indexed == 12 and not recommender.reindexing
    assert len(recommender.index) == 12
    after = await recommender.search(query, 40)
    assert {hit.product.id for hit in after} == {product.id for product in old[:12]}
