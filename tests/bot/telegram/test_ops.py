"""A shop's first start: /healthz answers while the model loads and the first index builds, with its progress;
/readyz is not ready until the index is open; a configuration without a head says so in both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import Application

from bot.telegram.app import build_application
from bot.telegram.settings import BotSettings
from recommender.indexing import BuildProgress
from recommender.readiness import Phase, Readiness
from recommender.settings import RecommenderSettings
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.bot_process import BotProcess, bot_environment, tiny_feed
from tests.auxil.fakes import FakeRecommender
from tests.auxil.redis_server import free_port

HEADLESS = ["no trained head with resnet50: results are not re-ranked by predicted attributes, …"]


@contextlib.asynccontextmanager
async def starting(application: Application) -> AsyncIterator[asyncio.Task[None]]:
    """The bot starting in the background, as ``run_polling`` starts it; stopped on leaving."""
    stop = asyncio.Event()

    async def serve() -> None:
        async with running(application):
            await stop.wait()

    task = asyncio.create_task(serve())
    try:
        yield task
    finally:
        stop.set()
        await task


async def probe(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    for _ in range(100):  # the server comes up in post_init, just after the test starts the bot
        with contextlib.suppress(aiohttp.ClientConnectionError):
            async with http.get(url) as response:
                return response.status, await response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")


async def gauge(http: aiohttp.ClientSession, url: str, name: str) -> float:
    async with http.get(url) as response:
        return float(next(line.split()[1] for line in (await response.text()).splitlines()
                          if line.startswith(name + " ")))


async def test_health_answers_during_a_first_build_and_readiness_waits_for_the_index(
        settings: BotSettings, recommender_settings: RecommenderSettings, recommender: FakeRecommender) -> None:
    readiness, loaded, built = Readiness(), asyncio.Event(), asyncio.Event()

    async def open_slowly(_: RecommenderSettings) -> FakeRecommender:
        """What CatalogRecommender.open does to ``readiness`` on a first start, with the test holding each step."""
        readiness.phase = Phase.LOADING
        await loaded.wait()
        readiness.model = {"backbone": "resnet50", "head": None, "rerank": False, "min_similarity": None}
        readiness.warnings = list(HEADLESS)
        readiness.building(BuildProgress(done=12, total=30, items_per_s=6.0))
        await built.wait()
        return recommender

    port = free_port()
    settings = settings.model_copy(update={"ops_port": port})
    base = f"http://127.0.0.1:{port}"
    application = build_application(settings, recommender_settings, open_recommender=open_slowly,
                                     readiness=readiness)
    async with starting(application) as bot, aiohttp.ClientSession() as http:
        status, body = await probe(http, base + "/healthz")
        while body["status"] == "starting":
            status, body = await probe(http, base + "/healthz")
        assert (status, body) == (200, {"status": "loading", "ready": False})

        loaded.set()
        while body["status"] != "building":
            status, body = await probe(http, base + "/healthz")
        assert status == 200  # alive: an orchestrator leaves it be
        assert body == {"status": "building", "ready": False,
                        "progress": {"done": 12, "total": 30, "percent": 40.0, "items_per_s": 6.0},
                        "model": {"backbone": "resnet50", "head": None, "rerank": False, "min_similarity": None},
                        "warnings": HEADLESS}
        status, body = await probe(http, base + "/readyz")
        assert (status, body["status"], body["ready"]) == (503, "building", False)  # not yet in the balancer
        assert await gauge(http, base + "/metrics", "fashionbot_ready") == 0.0
        assert not bot.done()

        built.set()
        while status != 200:
            status, body = await probe(http, base + "/readyz")
        assert body == {"status": "ok", "ready": True, "build_id": "fake-build-1", "products": 30,
                        "reindexing": False,
                        "model": {"backbone": "resnet50", "head": None, "rerank": False, "min_similarity": None},
                        "warnings": HEADLESS}
        status, health = await probe(http, base + "/healthz")
        assert (status, health) == (200, body)
        assert await gauge(http, base + "/metrics", "fashionbot_ready") == 1.0
        assert await gauge(http, base + "/metrics", "fashionbot_configuration_warnings") == 1.0
        assert application.bot_data.assistant is not None


async def test_a_start_that_fails_stops_the_ops_server_too(
        settings: BotSettings, recommender_settings: RecommenderSettings) -> None:
    async def broken(_: RecommenderSettings) -> FakeRecommender:
        raise RuntimeError("the catalog feed is missing")

    port = free_port()
    settings = settings.model_copy(update={"ops_port": port})
    application = build_application(settings, recommender_settings, open_recommender=broken)
    with pytest.raises(RuntimeError, match="feed is missing"):
        async with running(application):
            pass
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):  # nothing left listening on the port
            await http.get(f"http://127.0.0.1:{port}/healthz")


@pytest.mark.slow
async def test_the_real_bot_is_alive_while_its_first_index_builds_and_ready_once_open(tmp_path: Path) -> None:
    feed = tiny_feed(tmp_path / "feed", count=60)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    seen: list[tuple[int, dict, int]] = []  # /healthz's status and body, and /readyz's status, at the same moment
    async with BotApiEmulator() as api, aiohttp.ClientSession() as http:
        environment = bot_environment(api, tmp_path, feed, TELEGRAM_OPS_PORT=str(port), FASHIONBOT_ARTIFACT="none",
                                      FASHIONBOT_BATCH_SIZE="4", FASHIONBOT_THREADS="2")
        async with await BotProcess.start(environment) as bot:
            async def ready() -> bool:
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    # Readiness first: a bot that says it is ready must say so in /healthz asked after it (asked
                    # before, /healthz may still describe the build that was finishing in between).
                    async with http.get(base + "/readyz") as readiness, http.get(base + "/healthz") as health:
                        seen.append((health.status, await health.json(), readiness.status))
                        return readiness.status == 200
                return False

            async def until_ready() -> None:
                while not await ready():
                    assert bot.process.returncode is None, bot.output[-4000:]
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(until_ready(), 300)
            await api.wait_for("setMyCommands", timeout=10)
            assert await bot.stop() == 0
    building = [body for status, body, ready_status in seen if body["status"] == "building"]
    assert building and all(status == 200 and ready_status == 503 for status, body, ready_status in seen[:-1])
    progress = [body["progress"] for body in building if "progress" in body]
    assert progress and all(0 < step["done"] <= step["total"] == 60 for step in progress), building
    assert all(body["model"]["head"] is None and body["warnings"] for body in building)
    *_, (status, serving, ready_status) = seen
    assert (status, ready_status, serving["status"], serving["ready"], serving["products"]) == (200, 200, "ok",
                                                                                               True, 60)
    assert serving["model"] == {"backbone": "tf_efficientnet_lite0", "head": None, "rerank": False,
                                "min_similarity": 0.408}
    [warning] = serving["warnings"]
    assert warning.startswith("no trained head with tf_efficientnet_lite0: results are not re-ranked")
    assert warning in bot.output  # and in the log, at start
