"""Rendering many pictures in worker processes: the views and shots that training and validation need."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor


def default_workers() -> int:
    """One process per core but one (the model needs one too), at most 16."""
    return min(max((os.cpu_count() or 1) - 1, 1), 16)


def render_all(jobs: Sequence[tuple], work: Callable, workers: int | None = None) -> list:
    """``work(*job)`` for every job, in worker processes when there are cores to spare."""
    workers = workers or default_workers()
    if workers <= 1 or len(jobs) < 8:
        return [work(*job) for job in jobs]
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(work, *zip(*jobs, strict=True), chunksize=4))


