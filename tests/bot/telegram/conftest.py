"""The fast tier's world: a Bot API emulator, a fake Recommender, and the real Application between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.telegram.app import build_application
from bot.telegram.settings import BotSettings
from catalog import Product
from recommender.settings import RecommenderSettings
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.fakes import FakeRecommender, make_catalog

ADMIN = TgUser(500, "Ada", "ada_admin")
ANN = TgUser(1001, "Ann", "ann")
BOB = TgUser(1002, "Bob")


def contains(fragment: str):
    """A call-parameter matcher for BotApiEmulator.wait_for / calls_to."""
    return lambda value: isinstance(value, str) and fragment in value


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emulator:
        yield emulator


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return tmp_path / "catalog"


@pytest.fixture
def products(catalog_dir: Path) -> list[Product]:
    return make_catalog(catalog_dir)


@pytest.fixture
def recommender(products: list[Product]) -> FakeRecommender:
    return FakeRecommender(products)


@pytest.fixture
def settings(api: BotApiEmulator) -> BotSettings:
    return BotSettings(bot_token=api.token, api_url=api.url, admin_ids=frozenset({ADMIN.id}),
                       progress_interval_s=0.1, _env_file=None)


@pytest.fixture
def recommender_settings(catalog_dir: Path, tmp_path: Path) -> RecommenderSettings:
    return RecommenderSettings(catalog=catalog_dir / "catalog.csv", index=tmp_path / "index", _env_file=None)


@pytest.fixture
async def bot_app(settings: BotSettings, recommender_settings: RecommenderSettings,
                  recommender: FakeRecommender) -> AsyncIterator[Application]:
    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        return recommender

    application = build_application(settings, recommender_settings, open_recommender=open_fake)
    async with running(application):
        yield application
