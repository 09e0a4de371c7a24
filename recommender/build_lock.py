"""One index build at a time: in this process, or — with Redis (``FASHIONBOT_REDIS_URL``) — across every worker
that shares the index directory, so two workers never build at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError

from .protocol import ReindexInProgressError

log = logging.getLogger(__name__)

LOCK_KEY = "fashionbot:index:build"
LOCK_TIMEOUT_S = 60.0  # a worker that dies mid-build frees the lock after this long; a live one renews it
FIRST_BUILD_WAIT_S = 3600.0


class BuildLock(Protocol):
    @property
    def held(self) -> bool:
        """Whether this process is building now."""

    def claim(self, *, wait: bool) -> AbstractAsyncContextManager[None]:
        """Held while building. ``wait=False``: raises :class:`ReindexInProgressError` if a build runs anywhere."""

    async def aclose(self) -> None: ...


class LocalBuildLock:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @property
    def held(self) -> bool:
        return self._lock.locked()

    def claim(self, *, wait: bool) -> AbstractAsyncContextManager[None]:
        if not wait and self._lock.locked():
            raise ReindexInProgressError("a reindex is already running")
        return self._lock

    async def aclose(self) -> None:
        pass


class RedisBuildLock:
    """A Redis lock renewed while the build runs (``LOCK_TIMEOUT_S``), released when it ends."""

    def __init__(self, redis: Redis, key: str = LOCK_KEY) -> None:
        self.redis, self.key = redis, key
        self._local = LocalBuildLock()

    @property
    def held(self) -> bool:
        return self._local.held

    def claim(self, *, wait: bool) -> AbstractAsyncContextManager[None]:
        local = self._local.claim(wait=wait)
        return self._claim(local, wait)

    @contextlib.asynccontextmanager
    async def _claim(self, local: AbstractAsyncContextManager[None], wait: bool) -> AsyncIterator[None]:
        async with local:
            lock = self.redis.lock(self.key, timeout=LOCK_TIMEOUT_S,
                                   blocking_timeout=FIRST_BUILD_WAIT_S if wait else None)
            if not await lock.acquire(blocking=wait):
                raise ReindexInProgressError("a reindex is already running on another worker")
            renewing = asyncio.create_task(_renew(lock))
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(LockError):  # expired meanwhile: nothing left to release
                    await lock.release()

    async def aclose(self) -> None:
        await self.redis.aclose()


async def _renew(lock) -> None:
    while True:
        await asyncio.sleep(LOCK_TIMEOUT_S / 3)
        try:
            await lock.reacquire()
        except LockError as error:
            log.warning("the index build lock could not be renewed: %s", error)
