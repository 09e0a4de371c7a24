"""Shared fixtures: the real (packaged, offline) engine and small real catalogs built from the demo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a model hub: the packaged backbone is what they use.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def engine():
    from engine import Engine, EngineConfig

    return Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", batch_size=16))


@pytest.fixture(scope="session")
def head_engine():
    """The shipped configuration: the packaged backbone with the shipped head (attributes, labels, re-rank)."""
    from engine import Engine, EngineConfig

    return Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", batch_size=16, artifact="auto"))


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def demo_products():
    from catalog import read_feed

    return read_feed(REPO / "demo" / "catalog.csv").products


def diverse(products, n: int):
    """``n`` products spread round-robin over article types, deterministically."""
    by_type: dict[str, list] = {}
    for product in products:
        by_type.setdefault(product.extra.get("article_type", ""), []).append(product)
    queues = sorted(by_type.values(), key=len, reverse=True)
    picked: list = []
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


@pytest.fixture(scope="session")
def small_feed(tmp_path_factory, demo_products) -> Path:
    """A 40-product Merchant CSV of demo items across categories (image paths absolute)."""
    from catalog import write_feed_csv

    path = tmp_path_factory.mktemp("feed") / "catalog.csv"
    write_feed_csv(diverse(demo_products, 40), path)
    return path


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, small_feed, engine) -> Path:
    """A real index of ``small_feed``, built with the real engine."""
    from recommender.indexing import build_index

    root = tmp_path_factory.mktemp("index") / "idx"
    build_index(small_feed, root, engine)
    return root


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A real redis-server for the whole test session (skipped, saying why, where none is installed)."""
    from tests.auxil.redis_server import MISSING, available, redis_server

    if not available():
        pytest.skip(MISSING)
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def redis(redis_url: str):
    """A client of that server, emptied first: each test starts with no keys."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    await client.flushall()
    yield client
    await client.aclose()
