"""Setting types the Telegram and Discord front doors share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import NoDecode

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
