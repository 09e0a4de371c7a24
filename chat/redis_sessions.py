"""Sessions in Redis (``FASHIONBOT_REDIS_URL``), shared by every bot process: any worker can take a user's
next message, and one user's changes are made one at a time across all of them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import cast

from redis.asyncio import Redis

from .session_store import UserLocks

LOCK_TIMEOUT_S = 30.0  # a worker that dies holding a user's lock frees it after this long


class RedisSessionStore:
    """``{prefix}session:{user}`` holds the text with its expiry; ``{prefix}sessions`` (a sorted set by last use)
    bounds their number: beyond ``max_users`` the least recently used are deleted, as in memory."""

    def __init__(self, redis: Redis, namespace: str, max_users: int, ttl_s: float | None = None) -> None:
        if max_users < 1:
            raise ValueError(f"max_users must be at least 1, got {max_users}")
        self.redis, self.max_users, self.ttl_s = redis, max_users, ttl_s
        self.prefix = f"fashionbot:{namespace}:"
        self._local = UserLocks()  # waiters in this process queue here, not by polling Redis

    def _key(self, user_id: int) -> str:
        return f"{self.prefix}session:{user_id}"

    async def load(self, user_id: int) -> str | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self._key(user_id))
            if self.ttl_s is not None:
                pipe.expire(self._key(user_id), _seconds(self.ttl_s))
            pipe.zadd(f"{self.prefix}sessions", {str(user_id): time.time()}, xx=True)
            text, *_ = await pipe.execute()
        return text.decode() if isinstance(text, bytes) else text

    async def save(self, user_id: int, text: str) -> None:
        users, now = f"{self.prefix}sessions", time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(user_id), text, ex=_seconds(self.ttl_s) if self.ttl_s is not None else None)
            pipe.zadd(users, {str(user_id): now})
            if self.ttl_s is not None:
                pipe.zremrangebyscore(users, "-inf", now - self.ttl_s)
            pipe.zcard(users)
            count = (await pipe.execute())[-1]
        if count > self.max_users:
            # ZPOPMIN with a count gives (member, score) pairs; redis-py's type covers every reply shape.
            pushed_out = cast(list[tuple[bytes, float]], await self.redis.zpopmin(users, count - self.max_users))
            if pushed_out:
                await self.redis.delete(*(self._key(int(member)) for member, _ in pushed_out))

    def lock(self, user_id: int) -> AbstractAsyncContextManager[None]:
        return self._hold(user_id)

    @contextlib.asynccontextmanager
    async def _hold(self, user_id: int) -> AsyncIterator[None]:
        async with self._local.hold(user_id), self.redis.lock(
                f"{self.prefix}lock:{user_id}", timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S):
            yield

    async def aclose(self) -> None:
        pass  # the connection belongs to whoever made it


def _seconds(ttl_s: float) -> int:
    return max(1, round(ttl_s))
