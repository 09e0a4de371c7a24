"""The real bot as a process (``python -m bot``) against an emulator, and a tiny catalog built from the demo."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Self

from catalog import read_feed, write_feed_csv

from .bot_api_emulator import BotApiEmulator

REPO = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO / "demo" / "catalog.csv"
DEMO_PHOTOS = REPO / "demo" / "photos"


def tiny_feed(directory: Path, count: int = 30, source: Path = DEMO_FEED) -> Path:
    """A feed of ``count`` demo products spread over the whole catalog (so over its kinds)."""
    products = read_feed(source).products
    path = directory / "feed.csv"
    write_feed_csv(products[:: max(len(products) // count, 1)][:count], path)
    return path


def bot_environment(api: BotApiEmulator, work: Path, feed: Path, **variables: str) -> dict[str, str]:
    """The process's environment: ours without any TELEGRAM_/FASHIONBOT_ leftovers, plus the emulator's."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FASHIONBOT_"))}
    return {**keep, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url,
            "FASHIONBOT_CATALOG": str(feed), "FASHIONBOT_INDEX": str(work / "index"),
            "FASHIONBOT_CACHE_DIR": str(work / "cache"), "FASHIONBOT_DEVICE": "cpu",
            "FASHIONBOT_BACKBONE": "tf_efficientnet_lite0", "HF_HUB_OFFLINE": "1", **variables}


class BotProcess:
    """``python -m bot`` with its output (stdout and stderr together) collected as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, environment: dict[str, str]) -> Self:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=REPO, env=environment,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        return cls(process)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send ``stop_signal`` and wait for the exit code (killed, and a failure, after ``timeout``)."""
        if self.process.returncode is None:
            self.process.send_signal(stop_signal)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the bot did not stop within {timeout}s of signal {stop_signal}") from None
        finally:
            await self._reader
        return self.process.returncode

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader
        if kind is not None:  # a failed test shows what the bot said, which its assertion cannot
            sys.stderr.write(f"--- the bot's output ---\n{self.output[-20000:]}\n")

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))
