"""Shop the look in the playground, used from Chromium: the page draws the garment row under a person photo's
results and a tap switches the album. The real Application and Bot API server, a fake Recommender that sees a
person (the real pose model is measured elsewhere), so it runs in seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from playground.botapi import BotApiServer
from tests.auxil.application import chat_page
from tests.auxil.fakes import FakeRecommender, make_catalog
from tests.auxil.outfits import outfit_photo, outfit_regions

from .test_browser import CHROMIUM, CHROMIUM_ARGS

SCREENSHOT_COPY = Path("/tmp/playground-regions.png")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
ALL_LOADED = "[...document.querySelectorAll('.album img')].every(img => img.complete && img.naturalWidth > 0)"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[BotApiServer]:
    recommender = FakeRecommender(make_catalog(tmp_path / "catalog", remote_every=0))  # every image shown
    recommender.regions = outfit_regions()
    async with chat_page(recommender, tmp_path / "catalog" / "catalog.csv", tmp_path) as server:
        yield server


async def test_a_person_photo_shows_the_garment_row_and_a_tap_switches_the_album(
        server: BotApiServer, tmp_path: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    photo = tmp_path / "outfit.jpg"
    photo.write_bytes(outfit_photo())
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 900, "height": 1100})
        await page.goto(f"{server.url}/")
        await page.set_input_files("#file", str(photo))

        await page.wait_for_selector("text=Top — Matches 1–6", timeout=30_000)
        await page.wait_for_function(ALL_LOADED)
        row = page.locator(".kb-row", has=page.get_by_role("button", name="👟 Shoes"))
        assert await row.locator(".kb-action").evaluate_all("nodes => nodes.map(n => n.getAttribute('aria-label'))") \
            == ["✓ 👕 Top", "👖 Bottom", "👟 Shoes"]
        assert await row.locator("img.emoji").count() == 3  # drawn from the page's glyphs
        captions = page.locator(".album").first.locator(".tile .cap b")
        assert [text.split()[2] for text in await captions.all_inner_texts()][:5] == ["red"] * 5

        await page.get_by_role("button", name="👟 Shoes", exact=True).click()
        await page.wait_for_selector("text=Shoes — Matches 1–6", timeout=30_000)
        await page.wait_for_function("document.querySelectorAll('.album').length >= 2")
        await page.wait_for_function(ALL_LOADED)
        shoes = page.locator(".album").nth(1).locator(".tile .cap b")
        assert [text.split()[2] for text in await shoes.all_inner_texts()][:5] == ["black"] * 5
        assert await page.get_by_role("button", name="✓ 👟 Shoes").count() == 1  # the last page marks the shoes

        await page.get_by_role("button", name="👕 Top", exact=True).last.click()  # back: the top goes on
        await page.wait_for_selector("text=Top — Matches 7–12", timeout=30_000)
        screenshot = tmp_path / "regions.png"
        await page.screenshot(path=str(screenshot))
        await browser.close()
    SCREENSHOT_COPY.write_bytes(screenshot.read_bytes())
