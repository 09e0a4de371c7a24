"""Where the Discord bot keeps sessions, per-user limits and ratings: SQLite and this process, or the Redis that
FASHIONBOT_REDIS_URL names (shared with every other bot process, as on Telegram)."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import AsyncMock

import pytest
from redis.asyncio import Redis

from bot.discord import DiscordSettings, FashionBot
from chat.feedback import RedisFeedback, SqliteFeedback
from chat.limits import LocalRates, RedisRates
from chat.redis_sessions import RedisSessionStore
from chat.session_store import SqliteSessionStore
from recommender import RecommenderSettings
from tests.auxil.fakes import FakeRecommender, jpeg, make_catalog

from .test_handlers import TOKEN


async def started(tmp_path: Path, redis_url: str | None) -> FashionBot:
    """The client after its setup_hook, offline: the slash commands are not synced anywhere."""
    recommender = FakeRecommender(make_catalog(tmp_path / "catalog"))

    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        return recommender

    settings = RecommenderSettings(catalog=tmp_path / "catalog" / "catalog.csv", index=tmp_path / "index",
                                   redis_url=redis_url, _env_file=None)
    client = FashionBot(DiscordSettings(bot_token=TOKEN, _env_file=None), settings, open_recommender=open_fake)
    client.tree.sync = AsyncMock()
    await client.setup_hook()
    return client


async def test_with_a_redis_url_sessions_limits_and_ratings_are_shared_through_redis(
        tmp_path: Path, redis_url: str, redis: Redis) -> None:
    client = await started(tmp_path, redis_url)
    sessions = client.conversation.sessions
    assert isinstance(sessions.store, RedisSessionStore) and isinstance(sessions.rates, RedisRates)
    assert isinstance(client.conversation.feedback, RedisFeedback)
    assert client.conversation.feedback.client is sessions.store.redis  # one client
    await client.conversation.photo(42, jpeg("red"))
    assert await redis.exists("fashionbot:discord:session:42", "fashionbot:discord:rate:photos:42") == 2
    assert not (tmp_path / "sessions.sqlite").exists()
    await client.close()


async def test_without_redis_sessions_are_kept_in_sqlite_beside_the_index(tmp_path: Path) -> None:
    client = await started(tmp_path, None)
    sessions = client.conversation.sessions
    assert isinstance(sessions.store, SqliteSessionStore) and isinstance(sessions.rates, LocalRates)
    assert isinstance(client.conversation.feedback, SqliteFeedback)
    assert sessions.store.path == tmp_path / "sessions.sqlite"
    await client.close()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
async def test_an_unreachable_redis_fails_the_start(tmp_path: Path, url: str) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        await started(tmp_path, url)
