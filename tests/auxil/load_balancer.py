"""A round-robin load balancer on loopback: the one webhook URL Telegram knows, in front of several bot workers."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Self

import aiohttp
from aiohttp import web

from .redis_server import free_port

FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class RoundRobin:
    """POST ``{url}/{path}`` goes to the next worker's ``{worker}/{path}``; its answer comes back as it was."""

    def __init__(self, workers: list[str]) -> None:
        self.workers = workers
        self.port = free_port()
        self.forwarded: Counter[str] = Counter()  # worker → requests it answered
        self._next = itertools.cycle(workers)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        worker = next(self._next)
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        assert self._http is not None
        try:
            async with self._http.post(f"{worker}/{request.match_info['path']}", data=await request.read(),
                                       headers=headers) as answer:
                body = await answer.read()
                self.forwarded[worker] += answer.status == 200
                return web.Response(status=answer.status, body=body)
        except aiohttp.ClientError:
            return web.Response(status=502)  # a worker not up yet: Telegram delivers again later
