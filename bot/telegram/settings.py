"""The bot's own settings (``TELEGRAM_*``), read once from the environment and .env at start-up."""

from __future__ import annotations

import re

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from recommender.logs import TOKEN_PATTERN

from ..setting_types import LimitSettings, LogLevel, UserIds

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BotSettings(LimitSettings):
    """Everything the Telegram front door needs besides the recommender's ``FASHIONBOT_*`` settings."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_", env_file=".env", extra="ignore")

    bot_token: SecretStr = Field(description="from @BotFather; never logged")
    api_url: str = Field("https://api.telegram.org", description="Bot API server root")
    admin_ids: UserIds = Field(frozenset(), description="may /reindex")
    album_size: int = Field(6, ge=2, le=10, description="products per album (Telegram allows 2-10)")
    max_results: int = Field(60, ge=2, le=1000, description="products /more pages through per photo")
    concurrent_updates: int = Field(64, ge=1, le=1024, description="updates handled at once")
    state_max_users: int = Field(10_000, ge=1, description="users whose last search is remembered")
    state_ttl_s: float = Field(3600.0, gt=0, description="how long a user's last search is remembered")
    progress_interval_s: float = Field(2.0, ge=0.1, description="/reindex edits at most this often")
    webhook_url: str | None = Field(None, description="public https URL; set it to use a webhook")
    webhook_listen: str = Field("0.0.0.0", description="webhook server address")
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(None, description="checked on every webhook request")
    delivery_deadline_s: float = Field(600.0, gt=0, description="how long a reply is sent again under flood "
                                                                "control before it is given up (and logged)")
    messages_per_s: float = Field(30.0, gt=0, le=1000, description="messages a second the bot sends in all "
                                                                    "(Telegram's limit; paid broadcasts allow more)")
    ops_port: int | None = Field(None, ge=1, le=65535, description="serve /healthz and /metrics on this port")
    ops_listen: str = Field("127.0.0.1", description="address of /healthz and /metrics")
    log_level: LogLevel = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL", "TELEGRAM_LOG_LEVEL"))

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr) -> SecretStr:
        if not TOKEN_PATTERN.fullmatch(token.get_secret_value().strip()):
            raise ValueError("is malformed: a bot token looks like 123456789:AAE… "
                             "(the bot's id, a colon, then 35 letters, digits, - or _)")
        return SecretStr(token.get_secret_value().strip())

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {url!r}")
        return url.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not _WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return secret

    @property
    def bot_url(self) -> str:
        """``{root}/bot``: PTB appends the token, as Telegram's ``/bot<token>/<method>`` wants."""
        return f"{self.api_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.api_url}/file/bot"
