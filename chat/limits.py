"""Limits per user that never touch other users: one photo in flight, bursts answered once, rates bounded.

Every limit is kept per user id, so a user who floods the bot only ever waits for themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


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
    """One user's limits: photos one at a time (the newest wins), photo and tap rates."""

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    photos_received: int = 0
    burst_noted: bool = False
    in_flight: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    photos: SlidingWindow = field(init=False, repr=False)
    taps: SlidingWindow = field(init=False, repr=False)
    tap_warned: bool = False

    def __post_init__(self) -> None:
        self.photos = SlidingWindow(self.limits.photos_per_minute, 60.0, self.clock)
        self.taps = SlidingWindow(self.limits.taps_per_second, 1.0, self.clock)

    def photo_arrived(self) -> PhotoTurn:
        self.photos_received += 1
        return PhotoTurn(self, self.photos_received)

    def burst_answered(self) -> None:
        """The newest photo of a burst has its answer: the next burst gets a note of its own."""
        self.burst_noted = False

    def tap(self) -> bool | None:
        """True: go ahead; False: refuse, saying so once; None: refuse silently (already said)."""
        if self.taps.allow():
            self.tap_warned = False
            return True
        if self.tap_warned:
            return None
        self.tap_warned = True
        return False
