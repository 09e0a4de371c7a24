"""Fixtures the conversation's tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chat.redis_sessions import RedisSessionStore
from chat.session_store import SessionStore, SqliteSessionStore


@pytest.fixture(params=["sqlite", "redis"])
async def lasting_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Each store that outlives a redeploy: SQLite beside the index, or Redis (a real redis-server)."""
    if request.param == "sqlite":
        store = SqliteSessionStore(tmp_path / "sessions.sqlite", "telegram", 10)
        yield store
        await store.aclose()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    await client.flushall()
    yield RedisSessionStore(client, "telegram", 10)
    await client.aclose()
