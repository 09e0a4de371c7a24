"""The operators' door (``TELEGRAM_OPS_PORT``): ``/healthz`` for load balancers and ``/metrics`` for Prometheus.

A small aiohttp server on the bot's own event loop, apart from the webhook's port: a load balancer checks
each worker here, and sends Telegram's updates to the webhook port.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from recommender import Recommender

from .metrics import BotMetrics

log = logging.getLogger(__name__)


class OpsServer:
    def __init__(self, metrics: BotMetrics, recommender: Recommender, healthy: Callable[[], Awaitable[bool]],
                 *, listen: str, port: int) -> None:
        self.metrics, self.recommender, self.healthy = metrics, recommender, healthy
        self.listen, self.port = listen, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        """200 while this worker can answer photos (index open, Redis reachable if used); 503 otherwise."""
        ok = await self.healthy()
        return web.json_response({"status": "ok" if ok else "unavailable", "build_id": self.recommender.build_id,
                                  "products": self.recommender.products_served,
                                  "reindexing": self.recommender.reindexing}, status=200 if ok else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
