"""A local Telegram Bot API server with Telegram's limits: the playground's back end and the tests' emulator."""

from .checks import ApiError
from .flood import FloodControl
from .server import LOCAL_TOKEN, ApiCall, BotApiServer, TgUser

__all__ = ["LOCAL_TOKEN", "ApiCall", "ApiError", "BotApiServer", "FloodControl", "TgUser"]
