"""Bad input gets a clear reply and nothing crashes; unexpected failures reach the global error handler."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.fakes import FakeRecommender, jpeg

from .conftest import ANN

pytestmark = pytest.mark.usefixtures("bot_app")
DATA = Path(__file__).resolve().parents[2] / "data"
MB = 1024 * 1024


@pytest.mark.parametrize(("file_name", "mime_type", "reply"), [
    ("not-an-image.txt", "text/plain", "That file isn't an image (text/plain)"),
    ("not-an-image.txt", "image/jpeg", "not an image I can read"),  # a lying MIME type
    ("truncated.jpg", "image/jpeg", "damaged or incomplete"),
    ("bomb.png", "image/png", "too many pixels"),  # 30000×30000: refused from its header
])
async def test_a_file_that_is_not_a_usable_image_gets_a_clear_reply(
        api: BotApiEmulator, recommender: FakeRecommender, file_name: str, mime_type: str, reply: str) -> None:
    api.send_document(ANN, (DATA / file_name).read_bytes(), file_name=file_name, mime_type=mime_type)
    [answer] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert reply in answer.params["text"]
    assert api.calls_to("sendMediaGroup") == [] and recommender.photos == 0


async def test_a_file_over_the_download_limit_is_refused_before_get_file(api: BotApiEmulator) -> None:
    api.send_document(ANN, jpeg("red"), file_name="huge.jpg", mime_type="image/jpeg", file_size=25 * MB)
    [answer] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert "25.0 MB" in answer.params["text"] and "up to 20 MB" in answer.params["text"]
    assert api.calls_to("getFile", ok=None) == []


async def test_a_file_whose_size_was_not_announced_is_refused_when_telegram_says_too_big(
        api: BotApiEmulator) -> None:
    api.send_document(ANN, jpeg("red"), file_name="huge.jpg", mime_type="image/jpeg", file_size=21 * MB,
                      announce_size=False)
    [answer] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert "up to 20 MB" in answer.params["text"]
    assert [call.description for call in api.calls_to("getFile", ok=False)] == ["Bad Request: file is too big"]


@pytest.mark.parametrize(("send", "reply"), [
    (lambda api: api.send_sticker(ANN), "That's a sticker"),
    (lambda api: api.send_animation(ANN), "GIFs and videos can't be searched"),
])
async def test_stickers_and_gifs_get_a_pointer_to_photos(api: BotApiEmulator, send, reply: str) -> None:
    send(api)
    [answer] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert answer.params["text"].startswith(reply)
    assert api.calls_to("getFile", ok=None) == []


async def test_an_unexpected_failure_is_logged_with_its_traceback_and_the_user_told(
        api: BotApiEmulator, recommender: FakeRecommender, caplog: pytest.LogCaptureFixture) -> None:
    recommender.fail_search = RuntimeError("faiss exploded")
    api.send_photo(ANN, jpeg("red"))
    [answer] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert answer.params["text"].startswith("Sorry, something went wrong")
    [record] = [r for r in caplog.records if r.name == "bot.telegram.errors" and r.levelno == logging.ERROR]
    assert record.exc_info and "faiss exploded" in str(record.exc_info[1])

    recommender.fail_search = None  # and the bot carries on
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
