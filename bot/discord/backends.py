"""Where the Discord bot keeps what outlives one interaction: :class:`chat.stores.Stores` under Discord's own
namespace (SQLite by default; Redis, shared by every bot process, with FASHIONBOT_REDIS_URL)."""

from __future__ import annotations

from chat.stores import Stores
from recommender import RecommenderSettings

from .settings import DiscordSettings

NAMESPACE = "discord"  # keeps Discord's user ids apart from Telegram's in a shared store


async def open_backends(settings: DiscordSettings, recommender_settings: RecommenderSettings) -> Stores:
    return await Stores.open(NAMESPACE, recommender_settings, max_users=settings.state_max_users,
                             ttl_s=settings.state_ttl_s)
