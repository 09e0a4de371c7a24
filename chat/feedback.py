"""👍 / 👎 on a page of results, kept: one rating per page, with the photo's fingerprint, the products and the
filters, so a shop can see what disappoints (``fashionbot feedback report``).

Two stores behind one small interface: SQLite (the default, a file beside the index) and Redis (where
``FASHIONBOT_REDIS_URL`` is set, shared by several bot processes). Neither blocks the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from index import Filters

from .state import PageRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    page TEXT PRIMARY KEY,
    liked INTEGER NOT NULL,
    photo TEXT NOT NULL,
    products TEXT NOT NULL,
    categories TEXT NOT NULL,
    filters TEXT NOT NULL,
    sort TEXT NOT NULL,
    language TEXT NOT NULL,
    at REAL NOT NULL
)
"""
REDIS_PREFIX = "fashionbot:feedback:"


@dataclass(frozen=True)
class Rating:
    """One page's rating. ``page`` identifies the page (user, photo, products, filters), never the user."""

    page: str
    liked: bool
    photo: str
    products: tuple[str, ...]
    categories: tuple[str, ...]
    filters: dict[str, Any]
    sort: str
    language: str
    at: float

    @classmethod
    def of(cls, user_id: int, record: PageRecord, *, liked: bool, language: str) -> Rating:
        return cls(page=page_key(user_id, record), liked=liked, photo=record.photo, products=record.products,
                   categories=record.categories, filters=_plain(record.filters), sort=record.sort,
                   language=language, at=time.time())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Rating:  # Redis gives bytes
        data = json.loads(text)
        return cls(**{**data, "products": tuple(data["products"]), "categories": tuple(data["categories"])})


def page_key(user_id: int, record: PageRecord) -> str:
    """The same user rating the same products for the same photo under the same filters rates one page."""
    seen = json.dumps([user_id, record.photo, record.products, _plain(record.filters), record.sort])
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def _plain(filters: Filters) -> dict[str, Any]:
    return {name: value for name, value in asdict(filters).items() if value not in (None, ())}


class FeedbackStore(Protocol):
    async def add(self, rating: Rating) -> bool:
        """Keep ``rating``; False (and nothing kept) when its page was rated already."""

    async def ratings(self) -> list[Rating]:
        """Every rating kept, oldest first."""

    async def aclose(self) -> None: ...


class SqliteFeedback:
    """Ratings in one SQLite file; each call opens its own connection on a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    async def add(self, rating: Rating) -> bool:
        return await asyncio.to_thread(self._add, rating)

    async def ratings(self) -> list[Rating]:
        return await asyncio.to_thread(self._ratings)

    async def aclose(self) -> None:
        return None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(_SCHEMA)
        return connection

    def _add(self, rating: Rating) -> bool:
        connection = self._connect()
        try:
            with connection:
                done = connection.execute(
                    "INSERT OR IGNORE INTO ratings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rating.page, int(rating.liked), rating.photo, json.dumps(rating.products),
                     json.dumps(rating.categories), json.dumps(rating.filters, ensure_ascii=False), rating.sort,
                     rating.language, rating.at))
            return done.rowcount == 1
        finally:
            connection.close()

    def _ratings(self) -> list[Rating]:
        if not self.path.exists():
            return []
        connection = self._connect()
        try:
            rows = connection.execute("SELECT page, liked, photo, products, categories, filters, sort, language, at "
                                      "FROM ratings ORDER BY at").fetchall()
        finally:
            connection.close()
        return [Rating(page, bool(liked), photo, tuple(json.loads(products)), tuple(json.loads(categories)),
                       json.loads(filters), sort, language, at)
                for page, liked, photo, products, categories, filters, sort, language, at in rows]


class RedisFeedback:
    """Ratings in Redis: a key per page (SET NX: the first rating wins) and a list of them all.

    ``client`` may be shared (the Telegram bot's, which its sessions use too): then whoever made it closes it.
    """

    def __init__(self, client: Redis, *, owned: bool = False) -> None:
        self.client, self._owned = client, owned

    @classmethod
    def from_url(cls, url: str) -> RedisFeedback:
        return cls(Redis.from_url(url), owned=True)

    async def add(self, rating: Rating) -> bool:
        if not await self.client.set(f"{REDIS_PREFIX}page:{rating.page}", int(rating.liked), nx=True):
            return False
        await self.client.rpush(f"{REDIS_PREFIX}ratings", rating.to_json())
        return True

    async def ratings(self) -> list[Rating]:
        return [Rating.from_json(item) for item in await self.client.lrange(f"{REDIS_PREFIX}ratings", 0, -1)]

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


def open_feedback(sqlite_path: Path, redis_url: str | None = None) -> FeedbackStore:
    """Redis where a URL is configured, else the SQLite file. Connects on first use, not here."""
    return RedisFeedback.from_url(redis_url) if redis_url else SqliteFeedback(sqlite_path)
