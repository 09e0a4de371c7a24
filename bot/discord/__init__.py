"""The Discord front door (``python -m bot.discord``): the same conversation core as the Telegram bot.

An optional extra: ``pip install -e '.[discord]'`` brings discord.py.
"""

try:
    import discord  # noqa: F401
except ModuleNotFoundError as missing:  # say what to install instead of a bare traceback
    raise ModuleNotFoundError("the Discord front door needs discord.py: pip install -e '.[discord]'",
                              name=missing.name) from missing

from .app import FashionBot, serve  # noqa: E402
from .settings import DiscordSettings  # noqa: E402

__all__ = ["DiscordSettings", "FashionBot", "serve"]
