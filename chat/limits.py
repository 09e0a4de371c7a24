"""Limits per user that never touch other users: one photo in flight, bursts answered once, rates bounded.

Every limit is kept per user id, so a user who floods the bot only ever waits for themselves. The rates are
counted in ``Rates``: this process's (``LocalRates``), or Redis's (``RedisRates``) where several bot processes
serve one bot, so that N workers allow a user the rate once, not N times. A photo in flight and a burst's
newest photo are this process's own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from .lru import ExpiringLRU

MIN_WAIT_S = 0.001  # a refusal always says "wait", however close the window is to freeing up


@dataclass(frozen=True)
class Limits:
    """The front doors' settings for them (``TELEGRAM_PHOTOS_PER_MINUTE`` …); 0 switches a rate limit off."""

    photos_per_minute: int = 20
    taps_per_second: int = 5
    admin_commands_per_minute: int = 6


class SlidingWindow:
    """At most ``limit`` events in any ``window_s`` seconds; ``limit`` 0 allows everything."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        """Counts the event when it is allowed; a refused one does not use up the window."""
        if not self.limit:
            return True
        now = self._clock()
        while self._times and self._times[0] <= now - self.window_s:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def wait_s(self) -> float:
        """Seconds until the next event would be allowed."""
        if not self.limit or len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.window_s - self._clock())


class Rates(Protocol):
    """Sliding windows by key ("photos:42"), in this process or shared by every worker."""

    async def take(self, key: str, limit: int, window_s: float) -> float:
        """Count one event if fewer than ``limit`` were counted in the last ``window_s`` seconds: 0.0; else count
        nothing and return the seconds until one would be counted (always > 0)."""


class LocalRates:
    """The windows in this process: one bot process, or tests."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        # A window unused for an hour is empty: every window here is a minute or shorter.
        self._windows: ExpiringLRU[str, SlidingWindow] = ExpiringLRU(max_keys, ttl_s=3600.0, clock=clock)
        self._clock = clock

    async def take(self, key: str, limit: int, window_s: float) -> float:
        window = self._windows.get_or_create(key, lambda: SlidingWindow(limit, window_s, self._clock))
        return 0.0 if window.allow() else max(MIN_WAIT_S, window.wait_s())


# SlidingWindow.allow in Lua, on Redis's clock: a sorted set of the window's events, scored by their time.
# ARGV: limit, window, a member unique to this event → the wait as text ('0': counted).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now - window))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], string.format('%.6f', now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return string.format('%.6f', math.max(tonumber(ARGV[4]), tonumber(oldest[2]) + window - now))
"""


class RedisRates:
    """The same windows in Redis (``fashionbot:{namespace}:rate:{key}``), counted by every bot process."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.prefix = f"fashionbot:{namespace}:rate:"
        self._take = redis.register_script(_TAKE)

    async def take(self, key: str, limit: int, window_s: float) -> float:
        return float(await self._take(keys=[self.prefix + key], args=[limit, window_s, uuid.uuid4().hex, MIN_WAIT_S]))


class RateWindow:
    """One user's window for one kind of event (``limit`` in ``window_s``; 0: no limit), counted in ``rates``."""

    def __init__(self, rates: Rates, key: str, limit: int, window_s: float) -> None:
        self.rates, self.key, self.limit, self.window_s = rates, key, limit, window_s
        self._wait_s = 0.0

    async def allow(self) -> bool:
        """Counts the event when it is allowed; a refused one does not use up the window."""
        if not self.limit:
            return True
        self._wait_s = await self.rates.take(self.key, self.limit, self.window_s)
        return not self._wait_s

    def wait_s(self) -> float:
        """Seconds until the next event would be allowed, as of the last refusal."""
        return self._wait_s


@dataclass
class PhotoTurn:
    """One photo's place in its user's queue: ``latest`` turns False as soon as a newer photo arrives."""

    gate: UserGate
    number: int

    @property
    def latest(self) -> bool:
        return self.number == self.gate.photos_received

    def first_skipped(self) -> bool:
        """True for the first photo of a burst that is passed over (it gets the one note), False after."""
        if self.gate.burst_noted:
            return False
        self.gate.burst_noted = True
        return True


@dataclass
class UserGate:
    """One user's limits: photos one at a time (the newest wins), photo and tap rates (counted in ``rates``:
    this process's own unless given shared ones)."""

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    user_id: int = 0
    rates: Rates | None = field(default=None, repr=False)
    photos_received: int = 0
    burst_noted: bool = False
    in_flight: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    photos: RateWindow = field(init=False, repr=False)
    taps: RateWindow = field(init=False, repr=False)
    tap_warned: bool = False

    def __post_init__(self) -> None:
        rates = self.rates or LocalRates(clock=self.clock)
        self.photos = RateWindow(rates, f"photos:{self.user_id}", self.limits.photos_per_minute, 60.0)
        self.taps = RateWindow(rates, f"taps:{self.user_id}", self.limits.taps_per_second, 1.0)

    def photo_arrived(self) -> PhotoTurn:
        self.photos_received += 1
        return PhotoTurn(self, self.photos_received)

    def burst_answered(self) -> None:
        """The newest photo of a burst has its answer: the next burst gets a note of its own."""
        self.burst_noted = False

    async def tap(self) -> bool | None:
        """True: go ahead; False: refuse, saying so once; None: refuse silently (already said)."""
        if await self.taps.allow():
            self.tap_warned = False
            return True
        if self.tap_warned:
            return None
        self.tap_warned = True
        return False
