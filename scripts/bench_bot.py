"""Photo → album latency of the real bot (``python -m bot``) against the local Bot API emulator, with one worker
or two behind one webhook URL (sharing a local redis-server), under 20 and 100 concurrent users.

    python scripts/bench_bot.py [--catalog demo/catalog.csv] [--index var/bench/index] [--rounds 3]
                                [--users 20,100] [--workers 1,2] [--messages-per-s 30]

In a round, that many users each send one photo at once; latency is from the photo reaching the emulator to
the bot's sendMediaGroup being answered (and, second, to the message with the links). Each round's users are
new ones, so a chat's own pace (a message a second) does not spread one user's photos; the bot's overall pace
(``--messages-per-s``, Telegram's 30 by default; an album of six and its links are seven messages) does. One
worker polls, as a single bot does by default; two get updates through a round-robin balancer in front of their
webhooks and share sessions and flood budgets through Redis, each with half the cores. The first run builds
the index; later runs reuse it. Not a test: it prints numbers for this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser  # noqa: E402
from tests.auxil.bot_process import DEMO_FEED, DEMO_PHOTOS, BotProcess, bot_environment  # noqa: E402
from tests.auxil.load_balancer import RoundRobin  # noqa: E402
from tests.auxil.redis_server import free_port, redis_server  # noqa: E402

SECRET = "bench-Secret_1"
users_made = itertools.count(100_000)


async def photo_round(api: BotApiEmulator, users: list[TgUser], photos: itertools.cycle) -> list[tuple]:
    """All ``users`` send a photo at once; (album latency, links latency) per user, in seconds."""
    sent = {}
    for user in users:
        sent[user.id] = time.monotonic()
        api.send_photo(user, next(photos))
    results = []
    for user in users:
        [album] = await api.wait_for("sendMediaGroup", chat_id=user.id, timeout=300)
        [links] = await api.wait_for("sendMessage", chat_id=user.id, timeout=300,
                                     text=lambda text: bool(text) and text.startswith("Matches"))
        results.append((album.at - sent[user.id], links.at - sent[user.id]))
    return results


def new_users(count: int) -> list[TgUser]:
    return [TgUser(next(users_made), "bench") for _ in range(count)]


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, samples: list[tuple], seconds: float) -> None:
    for name, values in (("album", [s[0] for s in samples]), ("links", [s[1] for s in samples])):
        ordered = sorted(values)
        print(f"{label:>22} {name}: p50 {statistics.median(ordered) * 1000:7.0f} ms   "
              f"p95 {percentile(ordered, 0.95) * 1000:7.0f} ms   max {ordered[-1] * 1000:7.0f} ms   (n={len(ordered)})")
    print(f"{label:>22} throughput: {len(samples) / seconds:.1f} photos/s", flush=True)


@contextlib.asynccontextmanager
async def bots(api: BotApiEmulator, args: argparse.Namespace, workers: int) -> AsyncIterator[None]:
    """``workers`` bot processes serving ``api``, ready for photos."""
    threads = max(1, (os.cpu_count() or 2) // workers)
    base = {"FASHIONBOT_INDEX": str(args.index), "TELEGRAM_PHOTOS_PER_MINUTE": "0", "LOG_LEVEL": "WARNING",
            "FASHIONBOT_THREADS": str(threads), "TELEGRAM_MESSAGES_PER_S": str(args.messages_per_s)}
    async with contextlib.AsyncExitStack() as stack:
        if workers == 1:
            environments = [bot_environment(api, args.index.parent, args.catalog, **base)]
        else:
            redis_url = stack.enter_context(redis_server(Path(stack.enter_context(tempfile.TemporaryDirectory()))))
            ports = [free_port() for _ in range(workers)]
            balancer = await stack.enter_async_context(RoundRobin([f"http://127.0.0.1:{p}" for p in ports]))
            environments = [bot_environment(
                api, args.index.parent, args.catalog, **base, FASHIONBOT_REDIS_URL=redis_url,
                TELEGRAM_WEBHOOK_URL=f"{balancer.url}/tg", TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_SECRET=SECRET) for port in ports]
        processes = [await stack.enter_async_context(await BotProcess.start(env)) for env in environments]
        await api.wait_for("setMyCommands", count=workers, timeout=1800)
        yield
        for process in processes:
            await process.stop()


async def main(args: argparse.Namespace) -> None:
    photos = itertools.cycle([path.read_bytes() for path in sorted(DEMO_PHOTOS.glob("*.jpg"))])
    print(f"catalog {args.catalog}, index {args.index}, {os.cpu_count()} cores, "
          f"{args.messages_per_s:g} messages/s overall", flush=True)
    for workers in args.workers:
        async with BotApiEmulator() as api, bots(api, args, workers):
            await photo_round(api, new_users(4), photos)  # warm-up: first forward passes, file_ids
            for count in args.users:
                begun, samples = time.monotonic(), []
                for _ in range(args.rounds):
                    samples += await photo_round(api, new_users(count), photos)
                report(f"{workers} worker(s), {count} users", samples, time.monotonic() - begun)


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=DEMO_FEED)
    parser.add_argument("--index", type=Path, default=REPO / "var" / "bench" / "index")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=numbers, default=[20, 100])
    parser.add_argument("--workers", type=numbers, default=[1, 2])
    parser.add_argument("--messages-per-s", type=float, default=30.0)
    asyncio.run(main(parser.parse_args()))
