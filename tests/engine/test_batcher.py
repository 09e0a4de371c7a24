"""Micro-batching: concurrent callers share one call, errors stay with their item, the loop stays free."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine import MicroBatcher


async def test_concurrent_submissions_share_batches():
    calls: list[list[int]] = []

    def double(items):
        calls.append(list(items))
        time.sleep(0.05)
        return [item * 2 for item in items]

    batcher = MicroBatcher(double, max_batch=8, max_wait_s=0.01)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    await batcher.aclose()
    assert results == [i * 2 for i in range(20)]
    assert len(calls) <= 4 and max(len(c) for c in calls) == 8


async def test_an_item_error_reaches_only_its_caller():
    def check(items):
        return [ValueError(f"bad {i}") if i < 0 else i for i in items]

    batcher = MicroBatcher(check, max_batch=4)
    good, bad = await asyncio.gather(batcher.submit(3), batcher.submit(-1), return_exceptions=True)
    await batcher.aclose()
    assert good == 3
    assert isinstance(bad, ValueError) and "bad -1" in str(bad)


async def test_a_failing_batch_fails_its_callers_and_the_batcher_survives():
    attempts = []

    def flaky(items):
        attempts.append(items)
        if len(attempts) == 1:
            raise RuntimeError("out of memory")
        return items

    batcher = MicroBatcher(flaky, max_batch=4)
    with pytest.raises(RuntimeError, match="out of memory"):
        await batcher.submit(1)
    assert await batcher.submit(2) == 2
    await batcher.aclose()


async def test_the_event_loop_keeps_running_during_a_slow_batch():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    batcher = MicroBatcher(lambda items: (time.sleep(0.3), items)[1])
    task = asyncio.create_task(ticker())
    await batcher.submit(1)
    task.cancel()
    await batcher.aclose()
    assert ticks >= 10


async def test_items_whose_callers_gave_up_before_their_batch_are_not_run():
    seen: list[list[str]] = []
    first_running = asyncio.Event()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def process(items):
        seen.append(list(items))
        if items == ["first"]:
            loop.call_soon_threadsafe(first_running.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(5)
        return items

    batcher = MicroBatcher(process, max_batch=4, max_wait_s=0.001)
    first = asyncio.ensure_future(batcher.submit("first"))
    await first_running.wait()  # the next items queue behind the running batch
    dropped = asyncio.ensure_future(batcher.submit("dropped"))
    kept = asyncio.ensure_future(batcher.submit("kept"))
    await asyncio.sleep(0.01)
    dropped.cancel()
    release.set()
    assert await first == "first" and await kept == "kept"
    await batcher.aclose()
    assert seen == [["first"], ["kept"]]
