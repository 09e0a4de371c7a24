"""Where the bot keeps what outlives one update: the stores both front doors have (:class:`chat.stores.Stores`:
sessions, per-user rate limits, ratings) and Telegram's own — the order of each user's pages and flood budgets.
This process's memory and SQLite by default; Redis, shared by every worker, with FASHIONBOT_REDIS_URL (one
client for all of them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chat.page_order import LocalPageOrder, PageOrder, RedisPageOrder
from chat.stores import Stores
from recommender import RecommenderSettings

from .pacing import LocalPace, Pace, RedisPace
from .settings import BotSettings

log = logging.getLogger(__name__)

NAMESPACE = "telegram"  # keeps Telegram's user ids apart from Discord's in a shared store


@dataclass
class Backends:
    stores: Stores
    page_order: PageOrder
    pace: Pace

    @classmethod
    async def open(cls, settings: BotSettings, recommender_settings: RecommenderSettings) -> Backends:
        stores = await Stores.open(NAMESPACE, recommender_settings, max_users=settings.state_max_users,
                                   ttl_s=settings.state_ttl_s)
        if stores.redis is None:
            return cls(stores, LocalPageOrder(settings.state_max_users), LocalPace())
        log.info("sessions, page order, flood budgets, per-user limits and ratings shared through Redis")
        return cls(stores, RedisPageOrder(stores.redis, NAMESPACE), RedisPace(stores.redis))

    async def healthy(self) -> bool:
        return await self.stores.healthy()

    async def aclose(self) -> None:
        await self.stores.aclose()
