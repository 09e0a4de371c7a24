"""Rendering many pictures in worker processes: the views and shots that training and validation need."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor


def default_workers() -> int:
    """One process per core but one (the model needs one too), at most 16."""
    return min(max((os.cpu_count() or 1) - 1, 1), 16)


def worker_pool(workers: int) -> Executor:
    """Processes where there are cores to spare (rendering is CPU-bound Python), else one thread. Spawned, not
    forked: a fork after torch has started its threads can deadlock."""
    if workers <= 1:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def render_all(jobs: Sequence[tuple], work: Callable, workers: int | None = None) -> list:
    """``work(*job)`` for every job, in worker processes when there are cores to spare."""
    workers = workers or default_workers()
    if workers <= 1 or len(jobs) < 8:
        return [work(*job) for job in jobs]
    with worker_pool(workers) as pool:
        return list(pool.map(work, *zip(*jobs, strict=True), chunksize=4))


