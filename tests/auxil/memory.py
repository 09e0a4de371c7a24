"""How much resident memory a piece of work needed at its peak (Linux /proc): pixel buffers are C allocations
that tracemalloc cannot see."""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def resident() -> tuple[int, int] | None:
    """(current, peak) resident bytes of this process, from /proc (Linux); None elsewhere."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def reset_peak() -> bool:
    """Start a fresh peak; False where that cannot be done."""
    # malloc_trim hands freed heap back to the system, so a decode cannot reuse pages that RSS already
    # counts; writing 5 to clear_refs then resets VmHWM to the current RSS: the next peak is the work's.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_growth(work: Callable[[], T]) -> tuple[T, int | None]:
    """``work()``'s outcome, and how far above the resident memory before it the peak rose while it ran (None
    where that cannot be measured)."""
    before = resident() if reset_peak() else None
    outcome = work()
    after = resident()
    return outcome, None if before is None or after is None else after[1] - before[0]
