"""The tests' Bot API emulator: the playground's local Bot API server (fashionbot.playground.botapi)."""

from fashionbot.playground.botapi import LOCAL_TOKEN as TEST_TOKEN
from fashionbot.playground.botapi import ApiCall, TgUser
from fashionbot.playground.botapi import BotApiServer as BotApiEmulator

__all__ = ["TEST_TOKEN", "ApiCall", "BotApiEmulator", "TgUser"]
