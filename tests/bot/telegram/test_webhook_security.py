"""Webhooks are always signed: forged and wrong-secret updates are refused (403) and change nothing."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest

from bot.telegram.app import build_application, webhook_options
from bot.telegram.settings import BotSettings
from recommender import RecommenderSettings
from recommender.logs import SecretMaskFilter
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.fakes import FakeRecommender, jpeg

from .conftest import ADMIN, ANN

pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
STRANGER = TgUser(666, "Mallory")


def forged(api: BotApiEmulator, user: TgUser, text: str, update_id: int) -> dict:
    """An update as Telegram would send it, but posted by someone who only knows the URL."""
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": api.api.user_message(user.to_dict(), {"text": text,
                                                                                    "entities": entities})}


async def test_unsigned_and_wrongly_signed_updates_are_refused_and_change_nothing(
        api: BotApiEmulator, recommender_settings: RecommenderSettings, recommender: FakeRecommender,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SecretMaskFilter())
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    settings = BotSettings(bot_token=api.token, api_url=api.url, admin_ids=frozenset({ADMIN.id}),
                           webhook_url=f"http://127.0.0.1:{port}/tg", webhook_listen="127.0.0.1",
                           webhook_port=port, _env_file=None)  # no TELEGRAM_WEBHOOK_SECRET configured
    options = webhook_options(settings)
    secret = options["secret_token"]
    assert len(secret) >= 40

    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        return recommender

    application = build_application(settings, recommender_settings, open_recommender=open_fake)
    async with running(application, webhook=options):
        assert api.webhook["secret_token"] == secret  # Telegram was told, so it signs every update
        url = options["webhook_url"]
        async with aiohttp.ClientSession() as session:
            for number, headers in enumerate([{}, {"X-Telegram-Bot-Api-Secret-Token": "guess-" + secret[:10]}]):
                for user, text in ((STRANGER, "/start"), (ADMIN, "/reindex")):
                    update = forged(api, user, text, 900_000_000 + 10 * number + user.id % 7)
                    async with session.post(url, json=update, headers=headers) as response:
                        assert response.status == 403
        await asyncio.sleep(0.3)
        assert api.calls_to("sendMessage") == [] and not recommender.reindexing

        api.send_photo(ANN, jpeg("red"))  # delivered by the emulator, signed as Telegram signs
        await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    assert secret not in caplog.text


def test_a_configured_secret_is_used_as_given() -> None:
    settings = BotSettings(bot_token="123456789:" + "A" * 35, webhook_url="https://bot.example.com/hook",
                           webhook_secret="s3cret-Token_1", _env_file=None)
    options = webhook_options(settings)
    assert options["secret_token"] == "s3cret-Token_1" and options["url_path"] == "hook"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
