"""Full tier: the real ``python -m bot`` process, the real Recommender on a tiny demo catalog, the emulator."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.bot_process import DEMO_PHOTOS, BotProcess, bot_environment, tiny_feed

from .conftest import ANN, BOB, contains

pytestmark = pytest.mark.slow


async def test_real_bot_answers_photos_pages_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    feed = tiny_feed(tmp_path / "feed")
    tshirt = (DEMO_PHOTOS / "tshirt-1882.jpg").read_bytes()
    async with BotApiEmulator() as api:
        environment = bot_environment(api, tmp_path, feed, LOG_LEVEL="DEBUG", FASHIONBOT_THREADS="2")
        async with await BotProcess.start(environment) as bot:
            await api.wait_for("setMyCommands", timeout=240)  # model loaded, first index built

            api.send_photo(ANN, tshirt)
            [first] = await api.wait_for("sendMediaGroup", chat_id=ANN.id, timeout=60)
            assert len(first.params["media"]) == 6 and len(first.files) == 6  # a local catalog: uploaded
            assert all("https://www.myntra.com/" in item["caption"] for item in first.params["media"])
            await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"), timeout=30)

            api.send_text(ANN, "/more")
            await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2, timeout=60)
            second = api.calls_to("sendMediaGroup", chat_id=ANN.id)[1]
            links = [item["caption"].rsplit("\n", 1)[1] for call in (first, second) for item in call.params["media"]]
            assert len(set(links)) == 12

            api.send_document(BOB, tshirt, file_name="look.jpg", mime_type="image/jpeg")
            [album] = await api.wait_for("sendMediaGroup", chat_id=BOB.id, timeout=60)
            assert album.files == {}  # the same products again: by file_id, not uploaded twice
            assert album.params["media"][0]["caption"] == first.params["media"][0]["caption"]

            api.send_text(ANN, "/style")
            [style] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"), timeout=30)
            assert "• category: " in style.params["text"]

            stopping = time.monotonic()
            assert await bot.stop() == 0
            assert time.monotonic() - stopping < 5
        output = bot.output
    assert "building it from" in output  # no index yet: the configured catalog's was built, and said so
    assert api.token not in output and api.token.split(":")[1] not in output
    assert "<token>" in output  # it was there to mask (DEBUG logs the Bot API URL)
    assert "Traceback" not in output, output[-3000:]


async def test_sigterm_while_the_model_loads_stops_it_within_seconds(tmp_path: Path) -> None:
    feed = tiny_feed(tmp_path / "feed", count=10)
    async with BotApiEmulator() as api:
        environment = bot_environment(api, tmp_path, feed)
        async with await BotProcess.start(environment) as bot:
            await api.wait_for("getMe", timeout=60)  # initialised; post_init is loading the model now
            stopping = time.monotonic()
            assert await bot.stop() == 0, bot.output[-4000:]
            assert time.monotonic() - stopping < 5
    assert "stop signal received" in bot.output


async def test_a_killed_and_restarted_bot_continues_the_last_photos_pages(tmp_path: Path) -> None:
    feed = tiny_feed(tmp_path / "feed")
    tshirt = (DEMO_PHOTOS / "tshirt-1882.jpg").read_bytes()
    async with BotApiEmulator() as api:
        environment = bot_environment(api, tmp_path, feed, FASHIONBOT_THREADS="2")
        async with await BotProcess.start(environment) as bot:
            await api.wait_for("setMyCommands", timeout=240)
            api.send_photo(ANN, tshirt)
            await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"), timeout=60)
            await asyncio.wait_for(api.until(lambda: api.pending_updates == 0), 10)  # the photo is confirmed
            bot.process.kill()  # no clean shutdown: nothing gets the chance to save anything
            await bot.process.wait()

        async with await BotProcess.start(environment) as bot:
            await api.wait_for("setMyCommands", count=2, timeout=240)
            api.send_text(ANN, "/more")
            await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 7–12"), timeout=60)
            assert await bot.stop() == 0
    first, second = api.calls_to("sendMediaGroup", chat_id=ANN.id)
    links = [item["caption"].rsplit("\n", 1)[1] for call in (first, second) for item in call.params["media"]]
    assert len(set(links)) == 12  # the previous photo's next page, nothing of the first one again
    assert [call.params["media"][0]["caption"].split(".")[0] for call in (first, second)] == ["1", "7"]
