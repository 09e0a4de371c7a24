"""A user's pages are shown in the order they were made, even when two taps on More are answered at once —
by two handlers, or by two bot processes — and even when flood control holds the first one back.

Each page carries its number (``Page.number``, counted in the user's session); showing page n waits until page
n - 1 was shown. A page whose predecessor never finishes (its process died) waits ``wait_limit_s`` at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from redis.asyncio import Redis

from .lru import ExpiringLRU

log = logging.getLogger(__name__)

WAIT_LIMIT_S = 60.0
POLL_S = 0.05  # how often a page waiting on another process's page looks again


class PageOrder(Protocol):
    def turn(self, user_id: int, number: int) -> AbstractAsyncContextManager[None]:
        """Held while page ``number`` is shown; entered once pages before it were shown (0: at once)."""


class LocalPageOrder:
    """For one bot process."""

    def __init__(self, max_users: int = 10_000, wait_limit_s: float = WAIT_LIMIT_S) -> None:
        self._shown: ExpiringLRU[int, int] = ExpiringLRU(max_users, ttl_s=3600.0)
        self._changed = asyncio.Condition()
        self.wait_limit_s = wait_limit_s

    def turn(self, user_id: int, number: int) -> AbstractAsyncContextManager[None]:
        return self._turn(user_id, number)

    @contextlib.asynccontextmanager
    async def _turn(self, user_id: int, number: int) -> AsyncIterator[None]:
        if number:
            shown = self._shown.get(user_id)
            if shown is None or shown >= number:  # none since start, or the session began again: go ahead
                self._shown[user_id] = number - 1
            def ready() -> bool:
                return (self._shown.get(user_id) or 0) >= number - 1

            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(ready), self.wait_limit_s)
                except TimeoutError:
                    log.warning("user %s: page %d shown without waiting longer for page %d", user_id, number,
                                number - 1)
        try:
            yield
        finally:
            if number:
                self._shown[user_id] = max(self._shown.get(user_id) or 0, number)
                async with self._changed:
                    self._changed.notify_all()


# Page ARGV[1] starts: with no number shown yet, or a stale one (the session began again), the ones before it count
# as shown. Keeps the key ARGV[2] seconds.
_START = """
local shown = tonumber(redis.call('GET', KEYS[1]) or '-1')
if shown < 0 or shown >= tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], tonumber(ARGV[1]) - 1, 'EX', ARGV[2])
end
return 1
"""
# Sets the shown number to ARGV[1] unless a larger one is there; keeps the key ARGV[2] seconds.
_RAISE = """
local shown = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > shown then shown = tonumber(ARGV[1]) end
redis.call('SET', KEYS[1], shown, 'EX', ARGV[2])
return shown
"""


class RedisPageOrder:
    """For several bot processes: the shown number lives in Redis, and a waiting page polls it."""

    def __init__(self, redis: Redis, namespace: str, wait_limit_s: float = WAIT_LIMIT_S) -> None:
        self.redis, self.prefix, self.wait_limit_s = redis, f"fashionbot:{namespace}:shown:", wait_limit_s
        self._start, self._raise = redis.register_script(_START), redis.register_script(_RAISE)

    def turn(self, user_id: int, number: int) -> AbstractAsyncContextManager[None]:
        return self._turn(user_id, number)

    @contextlib.asynccontextmanager
    async def _turn(self, user_id: int, number: int) -> AsyncIterator[None]:
        key = f"{self.prefix}{user_id}"
        if number:
            await self._start(keys=[key], args=[number, 3600])
            deadline = time.monotonic() + self.wait_limit_s
            while int(await self.redis.get(key) or 0) < number - 1:
                if time.monotonic() > deadline:
                    log.warning("user %s: page %d shown without waiting longer for page %d", user_id, number,
                                number - 1)
                    break
                await asyncio.sleep(POLL_S)
        try:
            yield
        finally:
            if number:
                await self._raise(keys=[key], args=[number, 3600])
