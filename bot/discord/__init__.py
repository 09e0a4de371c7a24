"""The Discord front door (``python -m bot.discord``): the same conversation core as the Telegram bot."""

from .app import FashionBot, serve
from .settings import DiscordSettings

__all__ = ["DiscordSettings", "FashionBot", "serve"]
