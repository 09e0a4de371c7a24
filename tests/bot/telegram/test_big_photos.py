"""A 48 MP phone photo (8 MB) sent as a file is answered with an album, as a photo is: through the emulator,
with the fake recommender (fast) and with the real engine on a real index (slow)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.telegram.app import build_application
from bot.telegram.settings import BotSettings
from index import CatalogIndex
from recommender import CatalogRecommender, RecommenderSettings
from recommender.settings import DEMO_PHOTOS
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.fakes import FakeRecommender
from tests.auxil.photos import phone_photo

from .conftest import ANN, BOB, contains

PHOTO = "tshirt-1882.jpg"


@pytest.mark.usefixtures("bot_app")
async def test_a_48_mp_photo_sent_as_a_file_gets_an_album(api: BotApiEmulator, recommender: FakeRecommender) -> None:
    data = phone_photo(PHOTO)
    api.send_document(ANN, data, file_name="PXL_20261201_101500123.jpg", mime_type="image/jpeg")
    [album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id, timeout=30)
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    assert len(album.params["media"]) == 6 and recommender.photos == 1
    [download] = api.calls_to("getFile")
    assert download.result["file_size"] == len(data) > 6_000_000  # the whole 8 MB file, downloaded


@pytest.fixture
async def real_bot(api: BotApiEmulator, settings: BotSettings, engine, small_index: Path, small_feed: Path,
                   tmp_path: Path) -> AsyncIterator[Application]:
    """The real Application with the real recommender (EfficientNet-Lite0, garment framing) on a real index."""
    recommender_settings = RecommenderSettings(index=small_index, catalog=small_feed, cache_dir=tmp_path / "cache",
                                               state_dir=tmp_path, feedback_db=tmp_path / "feedback.sqlite",
                                               _env_file=None)

    async def open_real(_: RecommenderSettings) -> CatalogRecommender:
        return CatalogRecommender(engine, recommender_settings, CatalogIndex.open(small_index, engine.fingerprint))

    async with running(build_application(settings, recommender_settings, open_recommender=open_real)) as app:
        yield app


@pytest.mark.slow
@pytest.mark.usefixtures("real_bot")
async def test_the_real_engine_answers_the_48_mp_file_as_it_answers_the_photo_itself(api: BotApiEmulator) -> None:
    api.send_photo(ANN, (DEMO_PHOTOS / PHOTO).read_bytes())  # the photo as the demo has it (480×360)
    [small] = await api.wait_for("sendMediaGroup", chat_id=ANN.id, timeout=60)
    api.send_document(BOB, phone_photo(PHOTO), file_name="IMG_0001.JPG", mime_type="image/jpeg")
    [big] = await api.wait_for("sendMediaGroup", chat_id=BOB.id, timeout=60)

    def titles(call) -> list[str]:
        return [item["caption"].split("\n")[0].split(". ", 1)[1] for item in call.params["media"]]

    assert len(titles(big)) == 6
    assert titles(big)[0] == titles(small)[0]  # the same best match: the photo, only far bigger
    assert len(set(titles(big)) & set(titles(small))) >= 4
