"""Photo → album latency of the real bot (``python -m bot``) against the local Bot API emulator.

    python scripts/bench_bot.py [--catalog demo/catalog.csv] [--index var/bench/index] [--rounds 3]

Users send the demo photos; latency is from the photo reaching the emulator to the bot's sendMediaGroup
being answered (and, second, to the message with the links). With 1 user, photos go one after another;
with 20, all at once, for ``--rounds`` rounds. The first run builds the index (the model's first pass over
the catalog); later runs reuse it. Not a test: it prints numbers for this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser  # noqa: E402
from tests.auxil.bot_process import DEMO_FEED, DEMO_PHOTOS, BotProcess, bot_environment  # noqa: E402


async def photo_round(api: BotApiEmulator, users: list[TgUser], photos: itertools.cycle) -> list[tuple]:
    """All ``users`` send a photo at once; (album latency, links latency) per user, in seconds."""
    sent = {}
    for user in users:
        before = len(api.calls_to("sendMediaGroup", chat_id=user.id))
        sent[user.id] = (time.monotonic(), before)
        api.send_photo(user, next(photos))
    results = []
    for user in users:
        start, before = sent[user.id]
        albums = await api.wait_for("sendMediaGroup", chat_id=user.id, count=before + 1, timeout=120)
        links = await api.wait_for("sendMessage", chat_id=user.id, count=before + 1, timeout=120,
                                   text=lambda text: bool(text) and text.startswith("Matches"))
        results.append((albums[-1].at - start, links[-1].at - start))
    return results


def report(label: str, samples: list[tuple], seconds: float) -> None:
    for name, values in (("album", [s[0] for s in samples]), ("links", [s[1] for s in samples])):
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{label:>9} {name}: p50 {statistics.median(ordered) * 1000:7.0f} ms   "
              f"p95 {p95 * 1000:7.0f} ms   max {ordered[-1] * 1000:7.0f} ms   (n={len(ordered)})")
    print(f"{label:>9} throughput: {len(samples) / seconds:.1f} photos/s")


async def main(args: argparse.Namespace) -> None:
    photos = itertools.cycle([path.read_bytes() for path in sorted(DEMO_PHOTOS.glob("*.jpg"))])
    async with BotApiEmulator() as api:
        # A benchmark user sends far more photos a minute than a shopper: no per-user photo limit here.
        environment = bot_environment(api, args.index.parent, args.catalog, FASHIONBOT_INDEX=str(args.index),
                                      TELEGRAM_PHOTOS_PER_MINUTE="0",
                                      LOG_LEVEL="WARNING")
        started = time.monotonic()
        async with await BotProcess.start(environment) as bot:
            await api.wait_for("setMyCommands", timeout=1800)
            print(f"bot ready in {time.monotonic() - started:.1f} s (catalog {args.catalog}, index {args.index})")
            await photo_round(api, [TgUser(1, "warm-up")], photos)

            one = [TgUser(10, "solo")]
            begun, samples = time.monotonic(), []
            for _ in range(args.rounds * 20):
                samples += await photo_round(api, one, photos)
            report("1 user", samples, time.monotonic() - begun)

            crowd = [TgUser(100 + n, f"user{n}") for n in range(20)]
            begun, samples = time.monotonic(), []
            for _ in range(args.rounds):
                samples += await photo_round(api, crowd, photos)
            report("20 users", samples, time.monotonic() - begun)
            await bot.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=DEMO_FEED)
    parser.add_argument("--index", type=Path, default=REPO / "var" / "bench" / "index")
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
