"""Admin catalog rebuilds: one at a time, in the background, progress edited into one message, throttled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recommender import BuildProgress, Recommender, ReindexInProgressError

from . import replies

log = logging.getLogger(__name__)

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
    progress: BuildProgress | None = None
    outcome: str | None = None  # the final text, once finished

    def record(self, progress: BuildProgress) -> None:
        self.progress = progress


class Rebuilds:
    """/reindex and /reindex status; the rebuild itself is the Recommender's (old index serves meanwhile)."""

    def __init__(self, recommender: Recommender, feed: Path, interval_s: float) -> None:
        self.recommender, self.feed, self.interval_s = recommender, Path(feed), interval_s
        self.current: Rebuild | None = None
        self.last: Rebuild | None = None
        self._task: asyncio.Task[None] | None = None

    async def command(self, board: Board, *, user_id: int, allowed: bool, args: list[str],
                      spawn: Spawn = asyncio.create_task) -> None:
        """``allowed``: the adapter's verdict on whether this user may rebuild (admin ids, roles)."""
        if not allowed:
            log.warning("refused /reindex from user %s: not an admin", user_id)
            await board.post(replies.NOT_ADMIN)
        elif args == ["status"]:
            await board.post(self.status())
        elif args:
            await board.post(replies.REINDEX_USAGE)
        elif self.current is not None or self.recommender.reindexing:
            await board.post(replies.reindex_busy_text(self.status()))
        else:
            await self._start(Rebuild(self.feed, board), spawn)

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
        log.info("reindex from %s started by an admin", rebuild.feed)
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
