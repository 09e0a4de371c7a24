"""Start-up settings for either front door: its own and the recommender's, read once; one clear line if bad."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import ClassVar, Protocol, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from recommender import RecommenderSettings
from recommender.logs import mask_value

ENV_FILE = Path(".env")  # where both front doors' settings read it from: the working directory



class FrontDoor(Protocol):
    """What start-up needs of a front door's settings class (``BotSettings``, ``DiscordSettings``)."""

    model_config: ClassVar[SettingsConfigDict]
    bot_token: SecretStr
    log_level: str


FrontDoorSettings = TypeVar("FrontDoorSettings", bound=FrontDoor)


def describe_errors(error: ValidationError, env_prefix: str) -> str:
    """One line per bad setting, named as in the environment, never echoing the value (it may be a secret)."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        name = env_prefix + "_".join(str(part) for part in problem["loc"]).upper()
        if problem["type"] == "missing":
            lines.append(f"{name} is not set")
        else:
            lines.append(f"{name} {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def load_settings(settings_class: type[FrontDoorSettings],
                  log: logging.Logger) -> tuple[FrontDoorSettings, RecommenderSettings] | None:
    """A front door's settings and the recommender's, read once at start-up; None (and one clear log line) if
    bad. Sets the root log level from the front door's ``log_level``.
    """
    warn_if_readable_by_others(ENV_FILE, log)
    try:
        settings, recommender_settings = settings_class(), RecommenderSettings()
    except ValidationError as error:
        failed = RecommenderSettings if error.title == RecommenderSettings.__name__ else settings_class
        log.error("configuration error: %s", describe_errors(error, failed.model_config["env_prefix"]))
        return None
    mask_value(settings.bot_token.get_secret_value())  # also in texts no token pattern recognises
    if recommender_settings.redis_address:  # it may carry a password
        mask_value(recommender_settings.redis_address)
    logging.getLogger().setLevel(settings.log_level)
    return settings, recommender_settings


def warn_if_readable_by_others(path: Path, log: logging.Logger) -> None:
    """A .env holds the bot's token: group- or world-readable, anyone on the machine can take the bot over."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %03o) and holds secrets: chmod 600 %s", path, mode, path)
