"""Setting types the Telegram and Discord front doors share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode

from chat.limits import Limits

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _comma_separated_ids(value: object) -> object:
    if isinstance(value, str):
        return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
    return value


def _log_level(level: str) -> str:
    if level.upper() not in LOG_LEVELS:
        raise ValueError(f"must be {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}, got {level!r}")
    return level.upper()


# "123, 456" in the environment; NoDecode stops pydantic-settings from expecting JSON.
UserIds = Annotated[frozenset[int], NoDecode, BeforeValidator(_comma_separated_ids)]
LogLevel = Annotated[str, AfterValidator(_log_level)]


class LimitSettings(BaseSettings):
    """Per-user limits both front doors offer (``TELEGRAM_PHOTOS_PER_MINUTE``, ``DISCORD_…``); 0 turns one off.

    The defaults leave room for anyone shopping by hand — a photo every three seconds, five taps a second, an
    admin command every ten seconds — and stop a script or a stuck finger from hogging the model.
    """

    photos_per_minute: int = Field(Limits.photos_per_minute, ge=0, description="photos searched per user")
    taps_per_second: int = Field(Limits.taps_per_second, ge=0, description="button taps per user")
    admin_commands_per_minute: int = Field(Limits.admin_commands_per_minute, ge=0,
                                           description="/reindex commands per user")

    def limits(self) -> Limits:
        return Limits(self.photos_per_minute, self.taps_per_second, self.admin_commands_per_minute)
