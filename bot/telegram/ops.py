"""The operators' door (``TELEGRAM_OPS_PORT``): ``/healthz`` (alive), ``/readyz`` (serving) and ``/metrics``.

A small aiohttp server on the bot's own event loop, apart from the webhook's port. It starts before anything
else does, so an orchestrator's liveness probe is answered while the model loads and a first index builds
(``/healthz`` says which, with the build's progress); its readiness probe and a load balancer's health check
use ``/readyz``, which turns 200 once the index is open and the back ends answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from recommender import Recommender
from recommender.readiness import Readiness

from .metrics import BotMetrics

log = logging.getLogger(__name__)


class OpsServer:
    def __init__(self, metrics: BotMetrics, readiness: Readiness, *, listen: str, port: int) -> None:
        self.metrics, self.readiness = metrics, readiness
        self.listen, self.port = listen, port
        self._recommender: Recommender | None = None
        self._healthy: Callable[[], Awaitable[bool]] | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        log.info("health, readiness and metrics on http://%s:%d/healthz, /readyz and /metrics", self.listen,
                 self.port)

    def serve(self, recommender: Recommender, healthy: Callable[[], Awaitable[bool]]) -> None:
        """The recommender is open: report its index, and whether the back ends answer."""
        self._recommender, self._healthy = recommender, healthy

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        """Liveness: 200 whenever the process answers, starting or serving; the body says how far it is."""
        status, ready = await self._state()
        return web.json_response({"status": status, "ready": ready, **self._details()})

    async def _readyz(self, _: web.Request) -> web.Response:
        """200 while this worker can answer photos (index open, Redis reachable if used); 503 otherwise."""
        status, ready = await self._state()
        return web.json_response({"status": status, "ready": ready, **self._details()}, status=200 if ready else 503)

    async def _state(self) -> tuple[str, bool]:
        """"starting", "loading", "building" until the index is open; then "ok", or "unavailable" (Redis down)."""
        if not self.readiness.ready or self._healthy is None:
            return str(self.readiness.phase), False
        ok = await self._healthy()
        return ("ok" if ok else "unavailable"), ok

    def _details(self) -> dict[str, object]:
        details = self.readiness.describe()
        del details["phase"]  # the status says it
        if self._recommender is not None:
            details.update(build_id=self._recommender.build_id, products=self._recommender.products_served,
                           reindexing=self._recommender.reindexing)
        return details

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
