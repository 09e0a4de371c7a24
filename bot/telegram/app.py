"""build_application(settings, recommender_settings): the one place handlers are registered; run() serves it."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from functools import partial
from typing import NoReturn
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from chat import Conversation, Rebuilds, Sessions
from recommender import CatalogRecommender, Recommender, RecommenderSettings
from recommender.logs import mask_value
from recommender.readiness import Phase, Readiness

from . import handlers
from .backends import Backends
from .context import CONTEXT_TYPES, Assistant, assistant_of
from .errors import on_error
from .keyboards import command_menus
from .metrics import BotMetrics
from .ops import OpsServer
from .outgoing import FileIds
from .pacing import PacedRateLimiter
from .settings import BotSettings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
FILE_ID_CACHE_SIZE = 50_000
Opener = Callable[[RecommenderSettings], Awaitable[Recommender]]

# Checked in this order; the first match handles the update. A GIF arrives as an animation *and* a
# document, so animations must be caught before documents are.
UNSUPPORTED = filters.Sticker.ALL | filters.ANIMATION | filters.VIDEO | filters.VIDEO_NOTE


def build_application(settings: BotSettings, recommender_settings: RecommenderSettings, *,
                      open_recommender: Opener | None = None, readiness: Readiness | None = None) -> Application:
    """The bot, not started: post_init starts the ops server, then opens the recommender (off the loop) and
    builds what handlers share.

    ``readiness`` is what ``/healthz`` reports until then; the default opener (:meth:`CatalogRecommender.open`)
    moves it along, a test's opener may do so itself.
    """

    metrics = BotMetrics()
    rate_limiter = PacedRateLimiter(deadline_s=settings.delivery_deadline_s, overall_per_s=settings.messages_per_s,
                                    metrics=metrics)
    readiness = readiness if readiness is not None else Readiness()
    opener: Opener = open_recommender or partial(CatalogRecommender.open, readiness=readiness)
    metrics.watch_readiness(readiness)
    ops: list[OpsServer] = []

    async def post_init(application: Application) -> None:
        if settings.ops_port is not None:  # first: probes are answered while the model loads and an index builds
            ops.append(OpsServer(metrics, readiness, listen=settings.ops_listen, port=settings.ops_port))
            await ops[0].start()
        backends = await Backends.open(settings, recommender_settings)  # a wrong Redis URL fails before the model loads
        try:
            recommender = await opener(recommender_settings)
        except BaseException:
            await backends.aclose()
            raise
        rate_limiter.pace = backends.pace  # shared by every worker with Redis
        stores = backends.stores
        sessions = Sessions(settings.state_max_users, settings.state_ttl_s, limits=settings.limits(),
                            store=stores.sessions, rates=stores.rates, fingerprint=recommender.fingerprint)
        application.bot_data.assistant = Assistant(
            conversation=Conversation(recommender, sessions, album_size=settings.album_size,
                                      max_results=settings.max_results, feedback=stores.feedback,
                                      examples=recommender_settings.examples),
            rebuilds=Rebuilds(recommender, recommender_settings.catalog, settings.progress_interval_s,
                              commands_per_minute=settings.admin_commands_per_minute, rates=stores.rates),
            file_ids=FileIds(FILE_ID_CACHE_SIZE),
            admin_ids=settings.admin_ids,
            backends=backends,
            metrics=metrics,
        )
        metrics.watch(recommender, application.update_queue.qsize)
        for server in ops:
            server.serve(recommender, backends.healthy)
        for commands, language_code in command_menus():
            await application.bot.set_my_commands(commands, language_code=language_code)
        readiness.phase = Phase.READY
        log.info("serving as @%s through %s; %d admin(s); index build %s", application.bot.username,
                 settings.api_url, len(settings.admin_ids), recommender.build_id)

    async def post_shutdown(application: Application) -> None:
        for server in ops:
            await server.stop()
        if application.bot_data.assistant is not None:
            await application.bot_data.assistant.conversation.recommender.aclose()
            await application.bot_data.assistant.backends.aclose()  # sessions and ratings too

    application = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.bot_url)
        .base_file_url(settings.file_url)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(settings.concurrent_updates)
        .rate_limiter(rate_limiter)
        .read_timeout(15)
        .media_write_timeout(60)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.add_handlers([
        CommandHandler("start", handlers.on_start),
        CommandHandler("help", handlers.on_help),
        CommandHandler("more", handlers.on_more),
        CommandHandler("style", handlers.on_style),
        CommandHandler("reindex", handlers.on_reindex),
        CallbackQueryHandler(handlers.on_button),
        MessageHandler(UNSUPPORTED, handlers.on_unsupported),
        MessageHandler(filters.PHOTO | filters.Document.ALL, handlers.on_image),
        MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.on_text),
        InlineQueryHandler(handlers.on_inline),
        MessageHandler(filters.COMMAND, handlers.on_help),
        MessageHandler(filters.ALL, handlers.on_unsupported),
    ])
    application.add_error_handler(on_error)
    return application


def run(application: Application, settings: BotSettings) -> None:
    """Serve until SIGINT or SIGTERM: long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, _stop, application)
    if settings.webhook_url:
        application.run_webhook(**webhook_options(settings), allowed_updates=ALLOWED_UPDATES, stop_signals=None)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=None)


def webhook_options(settings: BotSettings) -> dict:
    """``run_webhook``'s address and secret. Webhooks are always signed: without TELEGRAM_WEBHOOK_SECRET a
    strong random one is made for this run and given to ``setWebhook``, so Telegram sends it with every
    update and PTB answers anything without it 403, unprocessed. Either way it is masked in the log."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
    mask_value(secret)
    return {"listen": settings.webhook_listen, "port": settings.webhook_port,
            "url_path": urlsplit(settings.webhook_url or "").path.lstrip("/"), "webhook_url": settings.webhook_url,
            "secret_token": secret}


def _stop(application: Application) -> None:
    """The first stop signal: stop waiting for a rebuild, then shut down as PTB does on its own signals.

    SystemExit is raised from a callback of its own: raised right here, it could overtake the callback
    that ends a ``run_until_complete`` whose future just finished, which would then stop PTB's shutdown
    half-way. A second signal gets the default treatment: an immediate stop.
    """
    loop = asyncio.get_running_loop()
    for stop_signal in STOP_SIGNALS:
        loop.remove_signal_handler(stop_signal)
    log.info("stop signal received: shutting down")
    if application.bot_data.assistant is not None:  # a signal during start-up comes before post_init's end
        assistant_of(application).rebuilds.cancel()
    loop.call_soon(_raise_system_exit)


def _raise_system_exit() -> NoReturn:
    raise SystemExit
