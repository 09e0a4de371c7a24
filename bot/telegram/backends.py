"""Where the bot keeps what outlives one update — sessions, the order of each user's pages, flood budgets,
ratings: SQLite files by the index and this process by default; Redis, shared by every worker, with
FASHIONBOT_REDIS_URL (one client for all of them)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from chat.feedback import FeedbackStore, RedisFeedback, SqliteFeedback
from chat.page_order import LocalPageOrder, PageOrder, RedisPageOrder
from chat.redis_sessions import RedisSessionStore
from chat.session_store import SESSIONS_FILE, SessionStore, SqliteSessionStore
from recommender import RecommenderSettings

from .pacing import LocalPace, Pace, RedisPace
from .settings import BotSettings

log = logging.getLogger(__name__)

NAMESPACE = "telegram"  # keeps Telegram's user ids apart from Discord's in a shared store


@dataclass
class Backends:
    sessions: SessionStore
    page_order: PageOrder
    pace: Pace
    feedback: FeedbackStore
    redis: Redis | None = None

    @classmethod
    async def open(cls, settings: BotSettings, recommender_settings: RecommenderSettings) -> Backends:
        url = recommender_settings.redis_address
        if url is None:
            path = recommender_settings.state_path / SESSIONS_FILE
            log.info("sessions kept in %s", path)
            sessions = await asyncio.to_thread(SqliteSessionStore, path, NAMESPACE, settings.state_max_users,
                                               settings.state_ttl_s)
            return cls(sessions, LocalPageOrder(settings.state_max_users), LocalPace(),
                       SqliteFeedback(recommender_settings.feedback_path))
        redis = Redis.from_url(url)
        await redis.ping()  # a wrong URL fails the start, not the first user's photo
        log.info("sessions, page order, flood budgets and ratings shared through Redis")
        return cls(RedisSessionStore(redis, NAMESPACE, settings.state_max_users, settings.state_ttl_s),
                   RedisPageOrder(redis, NAMESPACE), RedisPace(redis), RedisFeedback(redis), redis)

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
