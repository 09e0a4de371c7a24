"""``fashionbot playground``: the local Bot API server and chat page, then the real bot (``python -m bot``)
pointed at it; both stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from recommender.settings import DEMO_DIR

from .botapi import LOCAL_TOKEN, BotApiServer
from .botapi.methods import placeholder_image
from .web import ChatPage

log = logging.getLogger(__name__)

START_TIMEOUT_S = 900.0  # loading the model, and on a first start building the demo index
STOP_TIMEOUT_S = 15.0
FETCH_TIMEOUT_S = 5.0


async def fetch_image(url: str) -> bytes:
    """A product image the bot passed by URL, fetched as Telegram would (no network: a grey placeholder)."""
    try:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            response.raise_for_status()
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        log.info("product image %s unavailable (%s): showing a placeholder", url, error)
        return await placeholder_image(url)


def bot_environment(url: str, index: Path | None, **variables: str) -> dict[str, str]:
    """Ours, without TELEGRAM_ settings, plus the local server's; FASHIONBOT_* settings are kept."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    chosen = {"FASHIONBOT_INDEX": str(index.resolve())} if index is not None else {}
    return {**keep, "TELEGRAM_BOT_TOKEN": LOCAL_TOKEN, "TELEGRAM_API_URL": url, **chosen, **variables}


async def serve(port: int, index: Path | None, say: Callable[[str], None], *, host: str = "127.0.0.1",
                stop: asyncio.Event | None = None) -> int:
    """Run until a stop signal (or ``stop`` is set, or the bot exits); the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    server = BotApiServer(username="fashionbot_playground_bot", host=host, port=port, url_fetcher=fetch_image)
    server.extensions.append(ChatPage(server, DEMO_DIR / "photos").routes)
    try:
        await server.start()
    except OSError as error:
        say(f"cannot listen on {host}:{port}: {error.strerror}; try --port")
        return 1
    environment = bot_environment(server.url, index)
    index_dir = Path(environment.get("FASHIONBOT_INDEX", "var/index"))
    if not (index_dir / "current").exists():
        say(f"No index at {index_dir} yet: the bot builds the demo catalog's index first (30–60 s).")
    say("Starting the bot (python -m bot) against the local Bot API server…")
    # A session of its own: Ctrl-C in the terminal reaches only us, and the bot gets exactly one SIGTERM.
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=environment,
                                               start_new_session=True)
    try:
        return await _run(server, bot, stop, say)
    finally:
        await _stop_bot(bot)
        await server.stop()


async def _run(server: BotApiServer, bot: asyncio.subprocess.Process, stop: asyncio.Event,
               say: Callable[[str], None]) -> int:
    exited = asyncio.create_task(bot.wait())
    stopped = asyncio.create_task(stop.wait())
    polling = asyncio.create_task(server.wait_for("getUpdates", timeout=START_TIMEOUT_S))
    try:
        await asyncio.wait({exited, stopped, polling}, return_when=asyncio.FIRST_COMPLETED)
        if polling.done() and polling.exception() is None:
            say(f"Playground ready: open {server.url}/ in your browser (Ctrl-C stops it).")
            await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            say(f"The bot exited with code {bot.returncode}; see its log above.")
            return bot.returncode or 1
        if polling.done() and polling.exception() is not None:
            say(f"The bot did not start polling within {START_TIMEOUT_S:.0f} s.")
            return 1
        say("Stopping…")
        return 0
    finally:
        for task in (exited, stopped, polling):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await asyncio.gather(exited, stopped, polling, return_exceptions=True)


async def _stop_bot(bot: asyncio.subprocess.Process) -> None:
    if bot.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            bot.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("the bot did not stop within %.0f s: killing it", STOP_TIMEOUT_S)
            bot.kill()
            await bot.wait()
