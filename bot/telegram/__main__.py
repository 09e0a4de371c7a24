"""``python -m bot`` (or ``bot.telegram``): settings → logging → build_application → run (polling or webhook)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from telegram.error import InvalidToken

from recommender.logs import setup_logging

from ..startup import load_settings
from .app import build_application, run
from .settings import BotSettings

log = logging.getLogger("bot")
THREAD_GRACE_S = 2.0


def main() -> int:
    setup_logging()
    if (loaded := load_settings(BotSettings, log)) is None:
        return os.EX_CONFIG
    settings, recommender_settings = loaded
    if settings.webhook_url and recommender_settings.redis_url and not settings.webhook_secret:
        log.error("configuration error: TELEGRAM_WEBHOOK_SECRET must be set when workers share "
                  "FASHIONBOT_REDIS_URL (each worker would otherwise make its own and refuse the others')")
        return os.EX_CONFIG
    try:
        run(build_application(settings, recommender_settings), settings)
    except InvalidToken:
        log.error("configuration error: Telegram rejected TELEGRAM_BOT_TOKEN (revoked, or another bot's?)")
        return os.EX_CONFIG
    except Exception as error:
        log.critical("the bot stopped: %s", error, exc_info=error)
        return _leave(1)
    log.info("stopped")
    return _leave(0)


def _leave(code: int) -> int:
    """Exit without waiting for worker threads still busy after shutdown.

    A stop signal during start-up or a /reindex leaves a thread loading the model or building an index,
    which Python would wait for (minutes). Indexes are built aside and swapped in whole, so abandoning
    a build leaves the served one intact.
    """
    deadline = time.monotonic() + THREAD_GRACE_S
    for thread in _workers():
        thread.join(max(0.0, deadline - time.monotonic()))
    busy = [thread.name for thread in _workers() if thread.is_alive()]
    if busy:
        log.warning("not waiting for busy worker thread(s) %s; the served index is untouched", ", ".join(busy))
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    return code


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]


if __name__ == "__main__":
    sys.exit(main())
