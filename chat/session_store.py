"""Where sessions live between messages: in memory, in SQLite beside the index (the default: survives restarts),
or in Redis (``chat.redis_sessions``: shared by several bot processes).

A store keeps each user's session as text (``chat.session_codec``), bounded in number and expiring after its
last use, and gives one user's changes one at a time (:meth:`SessionStore.lock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from .lru import ExpiringLRU

Clock = Callable[[], float]
SESSIONS_FILE = "sessions.sqlite"  # in the state directory (by default beside the index)


class SessionStore(Protocol):
    """Sessions by user id, as text; the latest ``max_users`` used within ``ttl_s`` seconds are kept."""

    async def load(self, user_id: int) -> str | None:
        """The user's session, or None (never seen, expired, or pushed out by newer users); refreshes its expiry."""

    async def save(self, user_id: int, text: str) -> None: ...

    def lock(self, user_id: int) -> AbstractAsyncContextManager[None]:
        """Held while one change to the user's session is made (load, change, save)."""

    async def aclose(self) -> None: ...


class UserLocks:
    """One asyncio.Lock per user, alive while anyone holds or waits for it (so never evicted while held)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        async with lock:
            yield


class MemorySessionStore:
    """Sessions in this process only (forgotten at exit): tests, and the Discord bot's default."""

    def __init__(self, max_users: int, ttl_s: float | None = None, clock: Clock = time.monotonic) -> None:
        self._texts: ExpiringLRU[int, str] = ExpiringLRU(max_users, ttl_s, clock)
        self._locks = UserLocks()

    async def load(self, user_id: int) -> str | None:
        return self._texts.get(user_id)

    async def save(self, user_id: int, text: str) -> None:
        self._texts[user_id] = text

    def lock(self, user_id: int) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(user_id)

    async def aclose(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    namespace TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    used_at REAL NOT NULL,
    session TEXT NOT NULL,
    PRIMARY KEY (namespace, user_id)
);
CREATE INDEX IF NOT EXISTS sessions_by_use ON sessions(namespace, used_at);
"""


class SqliteSessionStore:
    """Sessions in one SQLite file, so they outlive restarts and redeploys; for one bot process per file.

    ``namespace`` keeps front doors apart (a Telegram user id and a Discord one may be equal). Expiry uses the
    wall clock, which (unlike a monotonic one) means the same after a restart. Queries run off the event loop.
    """

    def __init__(self, path: Path, namespace: str, max_users: int, ttl_s: float | None = None,
                 clock: Clock = time.time) -> None:
        if max_users < 1:
            raise ValueError(f"max_users must be at least 1, got {max_users}")
        self.path, self.namespace, self._clock = Path(path), namespace, clock
        self.max_users, self.ttl_s = max_users, ttl_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        self._connection.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; fast commits
        self._connection.executescript(_SCHEMA)
        self._serial = threading.Lock()  # one connection, used from worker threads one at a time
        self._locks = UserLocks()

    async def load(self, user_id: int) -> str | None:
        return await asyncio.to_thread(self._load, user_id)

    async def save(self, user_id: int, text: str) -> None:
        await asyncio.to_thread(self._save, user_id, text)

    def lock(self, user_id: int) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(user_id)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close)

    def _load(self, user_id: int) -> str | None:
        now = self._clock()
        with self._serial:
            row = self._connection.execute(
                "SELECT session, used_at FROM sessions WHERE namespace = ? AND user_id = ?",
                (self.namespace, user_id)).fetchone()
            if row is None or (self.ttl_s is not None and row[1] <= now - self.ttl_s):
                return None
            self._connection.execute("UPDATE sessions SET used_at = ? WHERE namespace = ? AND user_id = ?",
                                     (now, self.namespace, user_id))
            return row[0]

    def _save(self, user_id: int, text: str) -> None:
        now = self._clock()
        with self._serial, self._connection:
            self._connection.execute("BEGIN")
            self._connection.execute(
                "INSERT INTO sessions (namespace, user_id, used_at, session) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (namespace, user_id) DO UPDATE SET used_at = excluded.used_at, "
                "session = excluded.session", (self.namespace, user_id, now, text))
            if self.ttl_s is not None:
                self._connection.execute("DELETE FROM sessions WHERE namespace = ? AND used_at <= ?",
                                         (self.namespace, now - self.ttl_s))
            # Beyond the bound, the least recently used go first, as in memory.
            self._connection.execute(
                "DELETE FROM sessions WHERE namespace = ? AND user_id IN (SELECT user_id FROM sessions "
                "WHERE namespace = ? ORDER BY used_at DESC LIMIT -1 OFFSET ?)",
                (self.namespace, self.namespace, self.max_users))

    def _close(self) -> None:
        with self._serial:
            self._connection.close()
