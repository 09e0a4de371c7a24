"""The real Telegram Application run inside a test's event loop, as ``run_polling``/``run_webhook`` would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from telegram.ext import Application

from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.settings import BotSettings
from playground.botapi import BotApiServer
from playground.web import ChatPage
from recommender import Recommender
from recommender.settings import RecommenderSettings

from .bot_process import DEMO_PHOTOS


@contextlib.asynccontextmanager
async def running(application: Application, *, webhook: dict | None = None) -> AsyncIterator[Application]:
    """What ``Application.run_polling`` does, inside the test's event loop."""
    await application.initialize()
    try:
        await application.post_init(application)
        if webhook is None:
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            await application.updater.start_webhook(allowed_updates=ALLOWED_UPDATES, **webhook)
        await application.start()
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)


@contextlib.asynccontextmanager
async def chat_page(recommender: Recommender, catalog: Path, work: Path) -> AsyncIterator[BotApiServer]:
    """The playground's chat page on a local Bot API server, the real Application answering through
    ``recommender`` (``catalog``: its feed, ``work``: where settings may put files)."""
    server = BotApiServer()
    server.extensions.append(ChatPage(server, DEMO_PHOTOS).routes)

    async def open_given(_: RecommenderSettings) -> Recommender:
        return recommender

    async with server:
        settings = BotSettings(bot_token=server.token, api_url=server.url, _env_file=None)
        engine = RecommenderSettings(catalog=catalog, index=work / "i", _env_file=None)
        async with running(build_application(settings, engine, open_recommender=open_given)):
            yield server
