"""Fakes for the catalog tests: tiny image bytes and a real aiohttp image server with bad habits."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

from catalog import Product

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
AVIF = b"\x00\x00\x00\x1cftypavif" + bytes(200)


class ImageServer:
    """An aiohttp app on 127.0.0.1 whose paths each misbehave in one documented way."""

    def __init__(self, cap: int) -> None:
        self.cap = cap  # the max_bytes the tests give the fetcher
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = asyncio.Event()  # set at teardown so no handler outlives the test
        self.server: TestServer | None = None

    def url(self, name: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/{name}"))

    def product(self, name: str, pid: str | None = None) -> Product:
        return Product(id=pid or name, title=name, link="https://shop.example/p", image_link=self.url(name))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(name, request)
        finally:
            self.in_flight -= 1

    async def _respond(self, name: str, request: web.Request) -> web.StreamResponse:
        hits = self.hits[name]
        if name.startswith("ok"):
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "flaky":  # two 503s, then the image
            return (
                web.Response(status=503) if hits <= 2 else web.Response(body=JPEG, content_type="image/jpeg")
            )
        if name == "always-503":
            return web.Response(status=503)
        if name == "busy":  # one 429 asking for a zero-second pause, then the image
            if hits == 1:
                return web.Response(status=429, headers={"Retry-After": "0"})
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "busy-long":
            return web.Response(status=429, headers={"Retry-After": "3600"})
        if name == "missing":
            return web.Response(status=404, text="no such image")
        if name == "html":
            return web.Response(text="<html>login</html>", content_type="text/html")
        if name == "octet-png":
            return web.Response(body=PNG, content_type="application/octet-stream")
        if name == "octet-avif":  # the signature sits past the first bytes: checked on a slice
            return web.Response(body=AVIF, content_type="application/octet-stream")
        if name == "octet-junk":
            return web.Response(body=b"%PDF-1.7" + bytes(100), content_type="application/octet-stream")
        if name == "big":  # honest Content-Length over the cap
            return web.Response(body=JPEG + bytes(self.cap), content_type="image/jpeg")
        if name == "big-chunked":  # no Content-Length: the cap must bite while streaming
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(JPEG)
            for _ in range(8):
                await response.write(bytes(self.cap // 4))
            await response.write_eof()
            return response
        if name.startswith("slow"):
            # Waits past the client's timeout; released at teardown so server shutdown is immediate.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), timeout=0.05 if name == "slow-ok" else 5)
            return web.Response(body=JPEG, content_type="image/jpeg")
        raise web.HTTPNotFound()


@contextlib.asynccontextmanager
async def serving(handle: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[TestServer]:
    """A real HTTP server on 127.0.0.1 answering ``GET /{name}`` with ``handle``, closed afterwards."""
    app = web.Application()
    app.router.add_get("/{name}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()
