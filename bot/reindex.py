"""Admin catalog rebuilds: one at a time, in the background, progress edited into a single message."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest
from telegram.ext import Application

from fashionbot.service import BuildProgress, Recommender, ReindexInProgressError

from . import replies

log = logging.getLogger(__name__)


@dataclass
class Rebuild:
    feed: Path
    chat_id: int
    message_id: int | None = None
    progress: BuildProgress | None = None
    outcome: str | None = None  # the final text, once finished

    def record(self, progress: BuildProgress) -> None:
        self.progress = progress


class Rebuilds:
    """/reindex and /reindex status; the rebuild itself is the Recommender's (old index serves meanwhile)."""

    def __init__(self, feed: Path, admin_ids: frozenset[int], interval_s: float) -> None:
        self.feed, self.admin_ids, self.interval_s = Path(feed), admin_ids, interval_s
        self.current: Rebuild | None = None
        self.last: Rebuild | None = None
        self._task: asyncio.Task[None] | None = None

    async def command(self, application: Application, recommender: Recommender, chat_id: int, user_id: int,
                      args: list[str]) -> None:
        bot = application.bot
        if user_id not in self.admin_ids:
            log.warning("refused /reindex from user %s: not an admin", user_id)
            await bot.send_message(chat_id, replies.NOT_ADMIN)
        elif args == ["status"]:
            await bot.send_message(chat_id, self.status())
        elif args:
            await bot.send_message(chat_id, replies.REINDEX_USAGE)
        elif self.current is not None or recommender.reindexing:
            await bot.send_message(chat_id, replies.reindex_busy_text(self.status()))
        else:
            await self._start(application, recommender, Rebuild(self.feed, chat_id))

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

    async def _start(self, application: Application, recommender: Recommender, rebuild: Rebuild) -> None:
        self.current = rebuild  # claimed before the first await: a second /reindex now finds it busy
        try:
            message = await application.bot.send_message(rebuild.chat_id, self.status())
        except BaseException:
            self.current = None
            raise
        rebuild.message_id = message.message_id
        log.info("reindex from %s started by an admin in chat %s", rebuild.feed, rebuild.chat_id)
        self._task = application.create_task(self._run(application.bot, recommender, rebuild), name="reindex")

    async def _run(self, bot: Bot, recommender: Recommender, rebuild: Rebuild) -> None:
        ticker = asyncio.create_task(self._show_progress(bot, rebuild))
        name = rebuild.feed.name
        try:
            report = await recommender.reindex(rebuild.feed, progress=rebuild.record)
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
            await self._edit(bot, rebuild, rebuild.outcome or "")

    async def _show_progress(self, bot: Bot, rebuild: Rebuild) -> None:
        """Edit the progress message at most every ``interval_s``, and only when its text changed."""
        shown = replies.progress_text(rebuild.feed.name, None)
        while True:
            await asyncio.sleep(self.interval_s)
            text = replies.progress_text(rebuild.feed.name, rebuild.progress)
            if text != shown:
                await self._edit(bot, rebuild, text)
                shown = text

    @staticmethod
    async def _edit(bot: Bot, rebuild: Rebuild, text: str) -> None:
        try:
            await bot.edit_message_text(text, rebuild.chat_id, rebuild.message_id)
        except BadRequest as error:  # e.g. the admin deleted the message
            log.info("could not update the reindex message: %s", error.message)
