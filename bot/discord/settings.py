"""The Discord bot's own settings (``DISCORD_*``), read once from the environment and .env at start-up."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from ..setting_types import LimitSettings, LogLevel, UserIds


class DiscordSettings(LimitSettings):
    """Everything the Discord front door needs besides the engine's ``FASHIONBOT_*`` settings."""

    model_config = SettingsConfigDict(env_prefix="DISCORD_", env_file=".env", extra="ignore")

    bot_token: SecretStr = Field(description="from the Discord developer portal; never logged")
    admin_ids: UserIds = Field(frozenset(), description="user ids that may /reindex")
    admin_role: str | None = Field(None, description="members with this role (name or id) may /reindex too")
    guild_id: int | None = Field(None, description="sync slash commands to this server only (instant)")
    album_size: int = Field(6, ge=1, le=10, description="products per reply (Discord allows 10 embeds)")
    max_results: int = Field(60, ge=2, le=1000, description="products /more pages through per photo")
    state_max_users: int = Field(10_000, ge=1)
    state_ttl_s: float = Field(3600.0, gt=0)
    progress_interval_s: float = Field(2.0, ge=0.5, description="/reindex edits at most this often")
    log_level: LogLevel = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL", "DISCORD_LOG_LEVEL"))

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr) -> SecretStr:
        value = token.get_secret_value().strip()
        if value.count(".") != 2 or len(value) < 50:
            raise ValueError("is malformed: a Discord bot token is three dot-separated parts, 59+ characters")
        return SecretStr(value)
