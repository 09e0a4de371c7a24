"""The playground's page API over the local Bot API server, with the real Application and a fake Recommender."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from playground.botapi import BotApiServer
from tests.auxil.application import chat_page
from tests.auxil.fakes import FakeRecommender, make_catalog


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[BotApiServer]:
    recommender = FakeRecommender(make_catalog(tmp_path / "catalog"))
    async with chat_page(recommender, tmp_path / "catalog" / "catalog.csv", tmp_path) as server:
        yield server


async def chat(http: aiohttp.ClientSession, url: str, until, version: int = -1) -> dict:
    """Long-poll the page's view of the chat until ``until(state)`` holds."""
    for _ in range(50):
        async with http.get(f"{url}/api/messages", params={"after": version}) as response:
            state = await response.json()
        if until(state):
            return state
        version = state["version"]
    raise AssertionError(f"the chat never got there: {state}")


def albums(state: dict) -> list[list[dict]]:
    groups: dict[str, list[dict]] = {}
    for message in state["messages"]:
        if message["album"]:
            groups.setdefault(message["album"], []).append(message)
    return list(groups.values())


async def test_an_example_photo_gets_an_album_with_links_and_more_pages_on(server: BotApiServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/") as page:
            assert page.status == 200 and "fashionbot playground" in await page.text()
        async with http.get(server.url + "/api/examples") as response:
            examples = [e["name"] for e in await response.json()]
        assert "tshirt-1882.jpg" in examples and len(examples) == 8

        await http.post(server.url + "/api/photo", data={"example": "tshirt-1882.jpg"})
        state = await chat(http, server.url, lambda s: any(m["buttons"] for m in s["messages"]))
        assert state["messages"][0]["from_bot"] is False and state["messages"][0]["photo"]
        [album] = albums(state)
        assert len(album) == 6 and album[0]["text"].startswith("1. ")
        async with http.get(server.url + album[0]["photo"]) as image:
            assert image.status == 200 and (await image.read())[:2] == b"\xff\xd8"
        links = state["messages"][-1]
        assert [b["url"] for b in links["buttons"][0]] == ["https://shop.example.com/p/" + album[0]["text"]
                                                           .split("no. ")[1].split("\n")[0]]
        more = next(b for row in links["buttons"] for b in row if b["data"] == "more")

        await http.post(server.url + "/api/press", json={"data": more["data"], "message_id": links["id"]})
        state = await chat(http, server.url, lambda s: len(albums(s)) == 2 and "Matches 7" in s["messages"][-1]["text"])
        assert {m["text"] for m in albums(state)[0]}.isdisjoint(m["text"] for m in albums(state)[1])


async def test_commands_and_a_file_that_is_not_an_image(server: BotApiServer) -> None:
    async with aiohttp.ClientSession() as http:
        form = aiohttp.FormData()
        form.add_field("file", b"%PDF-1.4 not an image", filename="report.pdf", content_type="application/pdf")
        await http.post(server.url + "/api/photo", data=form)
        state = await chat(http, server.url, lambda s: any("isn't an image" in m["text"] for m in s["messages"]))
        assert state["messages"][0]["document"] == "report.pdf"
        await http.post(server.url + "/api/text", json={"text": "/style red"})
        await chat(http, server.url, lambda s: s["messages"][-1]["text"].startswith("Filter: red."))
        async with http.post(server.url + "/api/photo", data={"example": "../../etc/passwd"}) as refused:
            assert refused.status == 400
        async with http.post(server.url + "/api/press", json={"data": "more"}) as unknown:
            assert unknown.status == 404  # no such button was ever sent


def test_every_emoji_the_bot_can_send_has_a_glyph_shipped_with_the_page() -> None:
    """Chromium on a machine without a colour-emoji font draws empty boxes; the page draws these files instead."""
    repo = Path(__file__).resolve().parents[2]
    sources = [*repo.glob("chat/**/*.py"), *repo.glob("chat/locales/**/*.po"), *repo.glob("bot/**/*.py"),
               *repo.glob("playground/static/*.js"), *repo.glob("playground/static/*.html")]
    sent = {char for source in sources for char in source.read_text(encoding="utf-8")
            if ord(char) >= 0x1F000 and unicodedata.category(char) == "So"}
    assert {"👍", "👎"} <= sent
    glyphs = repo / "playground" / "static" / "emoji"
    assert {char for char in sent if not (glyphs / f"{ord(char):x}.svg").is_file()} == set()


async def test_the_page_serves_its_emoji_glyphs(server: BotApiServer) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/static/emoji/1f44d.svg") as response:
        assert response.status == 200 and response.content_type == "image/svg+xml"
        assert (await response.text()).startswith("<svg")
