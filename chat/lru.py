"""A bounded map whose entries expire: the least recently used go first, and each ``ttl_s`` after its last use."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringLRU(Generic[K, V]):
    """A map that holds at most ``max_size`` entries, dropping the least recently used first, and
    forgets an entry ``ttl_s`` after it was last used (``None``: never)."""

    def __init__(self, max_size: int, ttl_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size, self.ttl_s, self._clock = max_size, ttl_s, clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            return None
        self[key] = entry[1]  # a use refreshes both recency and expiry
        return entry[1]

    def get_or_create(self, key: K, factory: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = self[key] = factory()
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        return entry[1] if entry else None

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def _expire(self) -> None:
        """Entries are kept in order of last use, so the expired ones are all at the front."""
        if self.ttl_s is None:
            return
        deadline = self._clock() - self.ttl_s
        while self._entries:
            used, _ = next(iter(self._entries.values()))
            if used > deadline:
                break
            self._entries.popitem(last=False)
