"""Micro-batching: concurrent async callers share one blocking batch call on a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """Groups items that arrive together into one call of ``process_batch`` off the event loop.

    ``process_batch(items)`` returns one entry per item, in order; an entry that is an exception is
    raised to that item's caller alone, so one bad photo does not fail its neighbours. Batches run one
    at a time on a single worker thread: the model already uses every core, and a queue that builds
    up while a batch runs becomes the next, larger batch.
    """

    def __init__(
        self,
        process_batch: Callable[[list[Item]], Sequence[Result | BaseException]],
        *,
        max_batch: int = 16,
        max_wait_s: float = 0.003,
        name: str = "batcher",
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._process_batch = process_batch
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future]] | None = None
        self._worker: asyncio.Task | None = None
        self.batches_run = 0

    async def submit(self, item: Item) -> Result:
        if self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve(), name="micro-batcher")
        future = asyncio.get_running_loop().create_future()
        assert self._queue is not None  # made together with the worker, above
        await self._queue.put((item, future))
        return await future

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self._max_wait_s
            while len(batch) < self._max_batch:
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time())))
                except TimeoutError:
                    break
            batch = [(item, future) for item, future in batch if not future.done()]  # callers that gave up
            if not batch:
                continue
            items = [item for item, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self._process_batch, items)
                if len(results) != len(items):
                    raise RuntimeError(f"batch of {len(items)} returned {len(results)} results")
            except Exception as error:
                log.exception("batch of %d failed", len(items))
                results = [error] * len(items)
            self.batches_run += 1
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the caller gave up (cancelled); nobody to tell
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._queue is not None:
            while not self._queue.empty():
                _, future = self._queue.get_nowait()
                if not future.done():
                    future.set_exception(RuntimeError("the engine is shutting down"))
        self._executor.shutdown(wait=True, cancel_futures=True)
