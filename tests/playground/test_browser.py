"""Full tier: ``fashionbot playground`` with the real bot and model on a tiny catalog, used from Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.auxil.bot_process import DEMO_PHOTOS, REPO, tiny_feed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOT_COPY = Path("/tmp/playground.png")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_photo_in_the_browser_gets_an_album_links_more_and_a_refinement_by_text(tmp_path: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    port, feed = free_port(), tiny_feed(tmp_path / "feed")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FASHIONBOT_"))}
    environment = {**keep, "FASHIONBOT_CATALOG": str(feed), "FASHIONBOT_CACHE_DIR": str(tmp_path / "cache"),
                   "FASHIONBOT_DEVICE": "cpu", "FASHIONBOT_BACKBONE": "tf_efficientnet_lite0",
                   "FASHIONBOT_THREADS": "2", "HF_HUB_OFFLINE": "1"}
    playground = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fashionbot.cli", "playground", "--port", str(port), "--index", str(tmp_path / "index"),
        cwd=REPO, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    lines: list[str] = []
    try:
        async def ready() -> None:
            async for line in playground.stdout:
                lines.append(line.decode(errors="replace"))
                if "Playground ready: open http://127.0.0.1:" in lines[-1]:
                    return
            raise AssertionError("the playground exited:\n" + "".join(lines))

        await asyncio.wait_for(ready(), 300)
        assert any("builds the demo catalog's index first" in line for line in lines)
        output = asyncio.create_task(_drain(playground, lines))

        async with async_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 900, "height": 1100})
            await page.goto(f"http://127.0.0.1:{port}/")
            await page.wait_for_selector(".chip")  # the example photos
            await page.set_input_files("#file", str(DEMO_PHOTOS / "tshirt-1882.jpg"))

            await page.wait_for_function("document.querySelectorAll('.album img').length >= 6", timeout=90_000)
            await page.wait_for_function(
                "[...document.querySelectorAll('.album img')].every(img => img.complete && img.naturalWidth > 0)")
            links = page.locator("a.kb-url")
            assert await links.count() == 6
            assert (await links.first.get_attribute("href")).startswith("https://www.myntra.com/")
            assert await page.locator(".tile .cap").first.inner_text() != ""

            await page.get_by_role("button", name="More ▸").last.click()
            await page.wait_for_function("document.querySelectorAll('.album').length >= 2", timeout=90_000)
            await page.wait_for_selector("text=Matches 7–12")
            await page.wait_for_function(
                "[...document.querySelectorAll('.album img')].every(img => img.complete && img.naturalWidth > 0)")

            await page.fill("#text", "for women")  # refine in plain words: the refined album comes at once
            await page.press("#text", "Enter")
            await page.wait_for_selector("text=(filter: women)", timeout=90_000)
            await page.wait_for_function("document.querySelectorAll('.album').length >= 3", timeout=90_000)
            # 👍 / 👎 are drawn from the page's own glyphs: a fresh Debian's Chromium has no colour-emoji font.
            rate = page.get_by_role("button", name="👍").last
            await rate.locator("img.emoji").wait_for()
            await page.wait_for_function(
                "[...document.querySelectorAll('img.emoji')].every(img => img.complete && img.naturalWidth > 0)")
            screenshot = tmp_path / "playground.png"
            await page.screenshot(path=str(screenshot), full_page=False)
            await browser.close()
        shutil.copyfile(screenshot, SCREENSHOT_COPY)

        playground.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(playground.wait(), 30) == 0
        await output
        assert "Stopping" in "".join(lines)
    finally:
        if playground.returncode is None:
            playground.kill()
            await playground.wait()


async def _drain(process: asyncio.subprocess.Process, lines: list[str]) -> None:
    async for line in process.stdout:
        lines.append(line.decode(errors="replace"))
