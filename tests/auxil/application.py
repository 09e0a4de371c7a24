"""The real Telegram Application run inside a test's event loop, as ``run_polling``/``run_webhook`` would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telegram.ext import Application

from bot.telegram.app import ALLOWED_UPDATES


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
