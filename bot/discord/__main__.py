"""``python -m bot.discord``: settings → logging → FashionBot → serve until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import discord

from recommender.logs import setup_logging

from ..startup import load_settings
from .app import FashionBot, serve
from .settings import DiscordSettings

log = logging.getLogger("bot.discord")


def main() -> int:
    setup_logging()
    if (loaded := load_settings(DiscordSettings, log)) is None:
        return os.EX_CONFIG
    settings, recommender_settings = loaded
    try:
        asyncio.run(serve(FashionBot(settings, recommender_settings), settings.bot_token.get_secret_value()))
    except discord.LoginFailure:
        log.error("configuration error: Discord rejected DISCORD_BOT_TOKEN")
        return os.EX_CONFIG
    except Exception as error:
        log.critical("the bot stopped: %s", error, exc_info=error)
        return 1
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
