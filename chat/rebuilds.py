"""Admin catalog rebuilds: one at a time, in the background, progress edited into one message, throttled."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from recommender import BuildProgress, Recommender, ReindexInProgressError

from . import replies
from .limits import LocalRates, Rates, RateWindow

log = logging.getLogger(__name__)
audit_log = logging.getLogger("chat.audit")

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class Board(Protocol):
    """Where an adapter shows a rebuild: ``post`` a new message; ``edit`` the last one posted.

    ``edit`` handles its platform's own failures (e.g. the message was deleted) by logging them.
    """

    async def post(self, text: str) -> None: ...

    async def edit(self, text: str) -> None: ...


@dataclass
class Rebuild:
    feed: Path
    board: Board
    user_id: int
    progress: BuildProgress | None = None
    outcome: str | None = None  # the final text, once finished

    def record(self, progress: BuildProgress) -> None:
        self.progress = progress


def audit(user_id: int, action: str, outcome: str) -> None:
    """One line per admin action — who, what, when, outcome — on the ``chat.audit`` logger (refusals warn)."""
    level = logging.WARNING if outcome.startswith("refused") else logging.INFO
    audit_log.log(level, "admin action: user=%s action=%r at=%s outcome=%s", user_id, action,
                  datetime.now(UTC).isoformat(timespec="seconds"), outcome)


class Rebuilds:
    """/reindex and /reindex status; the rebuild itself is the Recommender's (old index serves meanwhile).

    Each user may give ``commands_per_minute`` of these commands (0: no limit; counted in ``rates``, shared by
    every worker where they are Redis's); every one is audited.
    """

    def __init__(self, recommender: Recommender, feed: Path, interval_s: float, *, commands_per_minute: int = 6,
                 clock: Callable[[], float] = time.monotonic, rates: Rates | None = None) -> None:
        self.recommender, self.feed, self.interval_s = recommender, Path(feed), interval_s
        self.current: Rebuild | None = None
        self.last: Rebuild | None = None
        self._task: asyncio.Task[None] | None = None
        self._rates = rates or LocalRates(1_000, clock)
        self._commands_per_minute = commands_per_minute

    async def command(self, board: Board, *, user_id: int, allowed: bool, args: list[str],
                      spawn: Spawn = asyncio.create_task) -> None:
        """``allowed``: the adapter's verdict on whether this user may rebuild (admin ids, roles)."""
        action = " ".join(["/reindex", *args])
        window = RateWindow(self._rates, f"admin:{user_id}", self._commands_per_minute, 60.0)
        if not await window.allow():
            audit(user_id, action, "refused: rate limit")
            await board.post(replies.admin_too_fast(window.wait_s()))
        elif not allowed:
            audit(user_id, action, "refused: not an admin")
            await board.post(replies.NOT_ADMIN)
        elif args == ["status"]:
            audit(user_id, action, "shown")
            await board.post(self.status())
        elif args:
            audit(user_id, action, "refused: usage")
            await board.post(replies.REINDEX_USAGE)
        elif self.current is not None or self.recommender.reindexing:
            audit(user_id, action, "refused: a rebuild is running")
            await board.post(replies.reindex_busy_text(self.status()))
        else:
            audit(user_id, action, f"started from {self.feed}")
            await self._start(Rebuild(self.feed, board, user_id), spawn)

    def status(self) -> str:
        if self.current is not None:
            return replies.progress_text(self.feed.name, self.current.progress)
        if self.last is not None and self.last.outcome:
            return f"Last rebuild: {self.last.outcome}"
        return "No rebuild has run since the bot started."

    def cancel(self) -> None:
        """At shutdown: stop waiting for a rebuild (the Recommender keeps the old index)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _start(self, rebuild: Rebuild, spawn: Spawn) -> None:
        self.current = rebuild  # claimed before the first await: a second /reindex now finds it busy
        try:
            await rebuild.board.post(self.status())
        except BaseException:
            self.current = None
            raise
        self._task = spawn(self._run(rebuild))

    async def _run(self, rebuild: Rebuild) -> None:
        ticker = asyncio.create_task(self._show_progress(rebuild))
        name = rebuild.feed.name
        try:
            report = await self.recommender.reindex(rebuild.feed, progress=rebuild.record)
            rebuild.outcome = replies.reindex_done_text(name, report)
        except ReindexInProgressError:
            rebuild.outcome = replies.reindex_failed_text(name, "another rebuild was already running")
        except asyncio.CancelledError:
            rebuild.outcome = replies.reindex_failed_text(name, "the bot is shutting down")
            raise
        except Exception as error:
            log.error("reindex from %s failed", rebuild.feed, exc_info=error)
            rebuild.outcome = replies.reindex_failed_text(name, f"{type(error).__name__}: {error}")
        finally:
            ticker.cancel()
            self.current, self.last = None, rebuild
            audit(rebuild.user_id, "/reindex", f"finished: {rebuild.outcome}")
            await rebuild.board.edit(rebuild.outcome or "")

    async def _show_progress(self, rebuild: Rebuild) -> None:
        """Edit the progress message at most every ``interval_s``, and only when its text changed."""
        shown = replies.progress_text(rebuild.feed.name, None)
        while True:
            await asyncio.sleep(self.interval_s)
            text = replies.progress_text(rebuild.feed.name, rebuild.progress)
            if text != shown:
                await rebuild.board.edit(text)
                shown = text
