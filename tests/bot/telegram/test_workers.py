"""Full tier: two real bot processes behind one webhook URL, sharing one Redis and one index directory."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest

from catalog import read_feed, write_feed_csv
from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.bot_process import DEMO_FEED, DEMO_PHOTOS, BotProcess, bot_environment
from tests.auxil.load_balancer import RoundRobin
from tests.auxil.redis_server import free_port

from .conftest import ADMIN, contains

pytestmark = pytest.mark.slow
SECRET = "two-workers-Secret_1"
USERS = [TgUser(2001 + n, f"user{n}") for n in range(4)]


def write_feed(path: Path, start: int, count: int = 24) -> set[str]:
    """Demo products ``start``, ``start`` + step, … (every run of the same start is the same catalog); their links."""
    products = read_feed(DEMO_FEED).products
    chosen = products[start:: len(products) // count][:count]
    write_feed_csv(chosen, path)
    return {product.link for product in chosen}


async def health(http: aiohttp.ClientSession, port: int) -> dict | None:
    with contextlib.suppress(aiohttp.ClientError):
        async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
            return await response.json() if response.status == 200 else None
    return None


async def until(condition, timeout: float, every: float = 0.5) -> None:
    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(every)

    await asyncio.wait_for(poll(), timeout)


async def photos_served(http: aiohttp.ClientSession, port: int) -> float:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
        line = next(line for line in (await response.text()).splitlines()
                    if line.startswith("fashionbot_photos_served_total "))
    return float(line.split()[1])


async def served_by_each(http: aiohttp.ClientSession, ports: list[int], count: float) -> bool:
    return [await photos_served(http, port) for port in ports] == [count] * len(ports)


def album_links(api: BotApiEmulator, user: TgUser) -> set[str]:
    [*_, last] = api.calls_to("sendMediaGroup", chat_id=user.id)
    return {item["caption"].rsplit("\n", 1)[1] for item in last.params["media"]}


async def test_two_workers_share_sessions_and_one_reindex_reaches_both(tmp_path: Path, redis_url: str) -> None:
    feed = tmp_path / "feed" / "catalog.csv"
    feed.parent.mkdir()
    old_links = write_feed(feed, start=0)
    photo = (DEMO_PHOTOS / "tshirt-1882.jpg").read_bytes()
    webhook_ports, ops_ports = [free_port(), free_port()], [free_port(), free_port()]
    async with (BotApiEmulator() as api,
                RoundRobin([f"http://127.0.0.1:{port}" for port in webhook_ports]) as balancer,
                aiohttp.ClientSession() as http):
        def worker_environment(n: int) -> dict[str, str]:
            return bot_environment(
                api, tmp_path, feed, FASHIONBOT_THREADS="1", FASHIONBOT_REDIS_URL=redis_url,
                FASHIONBOT_FOLLOW_BUILDS_S="0.5", TELEGRAM_ADMIN_IDS=str(ADMIN.id),
                TELEGRAM_WEBHOOK_URL=f"{balancer.url}/tg", TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                TELEGRAM_WEBHOOK_PORT=str(webhook_ports[n]), TELEGRAM_WEBHOOK_SECRET=SECRET,
                TELEGRAM_OPS_PORT=str(ops_ports[n]), TELEGRAM_PHOTOS_PER_MINUTE="0")

        async with (await BotProcess.start(worker_environment(0)) as first,
                    await BotProcess.start(worker_environment(1)) as second):
            await until(lambda: _all_healthy(http, ops_ports), timeout=400)
            builds = {(await health(http, port))["build_id"] for port in ops_ports}
            assert len(builds) == 1  # one worker built the first index, the other waited for it and opened it

            for user in USERS:  # the balancer alternates: each worker answers two of them
                api.send_photo(user, photo)
                await api.wait_for("sendMessage", chat_id=user.id, text=contains("Matches 1–6"), timeout=60)
            assert all(album_links(api, user) <= old_links for user in USERS)
            await until(lambda: served_by_each(http, ops_ports, 2.0), timeout=10)  # counted once each was sent
            api.send_text(USERS[1], "/more")  # its photo was answered by the other worker
            await api.wait_for("sendMessage", chat_id=USERS[1].id, text=contains("Matches 7–12"), timeout=60)

            new_links = write_feed(feed, start=13)
            api.send_text(ADMIN, "/reindex")
            await api.wait_for("editMessageText", chat_id=ADMIN.id, text=contains("rebuilt"), timeout=300)
            [old_build] = builds

            async def both_serve_the_new_build() -> bool:
                served = {(await health(http, port) or {}).get("build_id") for port in ops_ports}
                return len(served) == 1 and old_build not in served

            await until(both_serve_the_new_build, timeout=30)
            for user in USERS:
                api.send_photo(user, photo)
                await api.wait_for("sendMessage", chat_id=user.id, text=contains("Matches 1–6"), count=2,
                                   timeout=60)
            assert all(album_links(api, user) <= new_links for user in USERS)
            await until(lambda: served_by_each(http, ops_ports, 4.0), timeout=10)
            assert await first.stop() == 0 and await second.stop() == 0
    output = first.output + second.output
    assert output.count("building it from") == 1, output[-4000:]  # two workers never built at once
    assert "Traceback" not in output, output[-4000:]
    assert redis_url not in output and SECRET not in output


async def _all_healthy(http: aiohttp.ClientSession, ports: list[int]) -> bool:
    return all([await health(http, port) for port in ports])
