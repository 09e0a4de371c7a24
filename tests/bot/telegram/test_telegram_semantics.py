"""Telegram's side of things: flood control, refused albums, stale file_ids, many users at once, webhooks."""

from __future__ import annotations

import asyncio
import socket

import pytest
from telegram.ext import Application

from bot.telegram.app import build_application
from bot.telegram.context import assistant_of
from bot.telegram.settings import BotSettings
from recommender.settings import RecommenderSettings
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.fakes import FakeRecommender, jpeg

from .conftest import ANN, BOB, contains


@pytest.mark.usefixtures("bot_app")
async def test_flood_control_retry_after_is_honoured(api: BotApiEmulator) -> None:
    api.fail_next("sendMediaGroup", retry_after=1)
    api.send_photo(ANN, jpeg("red"))
    [album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    [refused] = api.calls_to("sendMediaGroup", ok=False)
    assert refused.status == 429 and album.at - refused.at >= 1.0


async def test_a_stale_cached_file_id_is_replaced_by_a_fresh_upload(
        api: BotApiEmulator, bot_app: Application) -> None:
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches"))  # file_ids noted by now
    [first] = api.calls_to("sendMediaGroup")
    assistant = assistant_of(bot_app)
    for product in assistant.conversation.recommender.products[:12:6]:
        assistant.file_ids[product.image_link] = "AgACAgIAAxkBstale"  # as if Telegram had forgotten them
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2)
    [refused] = api.calls_to("sendMediaGroup", ok=False)
    assert refused.description == "Bad Request: wrong file identifier/HTTP URL specified"
    retried = api.calls_to("sendMediaGroup")[-1]
    assert len(retried.files) == sum(item["media"].startswith("attach://") for item in first.params["media"])


@pytest.mark.usefixtures("bot_app")
async def test_an_album_telegram_refuses_still_leaves_the_links(api: BotApiEmulator) -> None:
    api.api.unreachable_urls.add("https://cdn.example.com/img/P007.jpg")
    api.send_photo(ANN, jpeg("blue"))
    [links] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    assert api.calls_to("sendMediaGroup") == []
    assert len(links.params["reply_markup"]["inline_keyboard"]) == 8  # six products, the actions, 👍/👎


async def test_twenty_users_at_once_are_all_answered_concurrently(
        api: BotApiEmulator, bot_app: Application, recommender: FakeRecommender) -> None:
    recommender.photo_delay_s = 0.3  # as if inference took that long
    users = [TgUser(2000 + n, f"User{n}") for n in range(20)]
    started = asyncio.get_running_loop().time()
    for n, user in enumerate(users):
        api.send_photo(user, jpeg(("red", "blue", "green", "white")[n % 4]))
    for user in users:
        await api.wait_for("sendMessage", chat_id=user.id, text=contains("Matches 1–6"), timeout=20)
    assert recommender.max_active > 1
    assert asyncio.get_running_loop().time() - started < 0.3 * 20  # not one after the other
    assert len(api.calls_to("sendMediaGroup")) == 20


async def test_webhook_mode_receives_updates_with_the_secret_token(
        api: BotApiEmulator, recommender_settings: RecommenderSettings, recommender: FakeRecommender) -> None:
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    port = _free_port()
    settings = BotSettings(bot_token=api.token, api_url=api.url, webhook_url=f"http://127.0.0.1:{port}/tg",
                           webhook_secret="s3cret-Token_1", _env_file=None)

    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        return recommender

    application = build_application(settings, recommender_settings, open_recommender=open_fake)
    webhook = {"listen": "127.0.0.1", "port": port, "url_path": "tg", "webhook_url": settings.webhook_url,
               "secret_token": "s3cret-Token_1"}
    async with running(application, webhook=webhook):
        assert api.webhook == {"url": f"http://127.0.0.1:{port}/tg", "secret_token": "s3cret-Token_1"}
        api.send_photo(ANN, jpeg("red"))
        await api.wait_for("sendMediaGroup", chat_id=ANN.id)
        assert api.calls_to("getUpdates", ok=None) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_burst_of_photos_gets_one_album_and_one_note_and_never_delays_another_user(
        api: BotApiEmulator, bot_app: Application, recommender: FakeRecommender) -> None:
    recommender.photo_delay_s = 0.3
    for colour in ("red", "blue", "green", "white", "black", "yellow", "red", "blue", "green", "white"):
        api.send_photo(ANN, jpeg(colour))  # ten photos forwarded at once
    api.send_photo(BOB, jpeg("blue"))
    [bobs] = await api.wait_for("sendMediaGroup", chat_id=BOB.id, timeout=10)
    [note] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("several photos at once"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    await asyncio.sleep(0.5)
    [anns] = api.calls_to("sendMediaGroup", chat_id=ANN.id)  # one album, not ten
    assert len(api.calls_to("sendMessage", chat_id=ANN.id)) == 2  # the note and the album's links
    assert bobs.at < anns.at and recommender.photos <= 3
