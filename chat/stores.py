"""Where a front door keeps what outlives one message — sessions, per-user rate limits, ratings: SQLite files by
the index and this process by default; Redis, shared by every bot process, with FASHIONBOT_REDIS_URL (one client
for all of them). Each front door keeps its users in a namespace of its own."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from recommender import RecommenderSettings

from .feedback import FeedbackStore, RedisFeedback, SqliteFeedback
from .limits import LocalRates, Rates, RedisRates
from .redis_sessions import RedisSessionStore
from .session_store import SESSIONS_FILE, SessionStore, SqliteSessionStore

log = logging.getLogger(__name__)


@dataclass
class Stores:
    sessions: SessionStore
    rates: Rates
    feedback: FeedbackStore
    redis: Redis | None = None  # the one client every Redis-backed store uses

    @classmethod
    async def open(cls, namespace: str, settings: RecommenderSettings, *, max_users: int,
                   ttl_s: float | None) -> Stores:
        """SQLite and this process's memory without a Redis URL; Redis, checked to answer, with one."""
        url = settings.redis_address
        if url is None:
            path = settings.state_path / SESSIONS_FILE
            log.info("sessions kept in %s", path)
            sessions = await asyncio.to_thread(SqliteSessionStore, path, namespace, max_users, ttl_s)
            return cls(sessions, LocalRates(), SqliteFeedback(settings.feedback_path))
        redis = Redis.from_url(url)
        await redis.ping()  # a wrong URL fails the start, not the first user's photo
        return cls(RedisSessionStore(redis, namespace, max_users, ttl_s), RedisRates(redis, namespace),
                   RedisFeedback(redis), redis)

    async def healthy(self) -> bool:
        if self.redis is None:
            return True
        try:
            return bool(await self.redis.ping())
        except Exception as error:
            log.warning("health check: Redis does not answer: %s", error)
            return False

    async def aclose(self) -> None:
        await self.sessions.aclose()
        await self.feedback.aclose()
        if self.redis is not None:
            await self.redis.aclose()
