"""The tests' Bot API emulator: the playground's local Bot API server (playground.botapi)."""

from playground.botapi import LOCAL_TOKEN as TEST_TOKEN
from playground.botapi import ApiCall, FloodControl, TgUser
from playground.botapi import BotApiServer as BotApiEmulator

__all__ = ["TEST_TOKEN", "ApiCall", "BotApiEmulator", "FloodControl", "TgUser"]
