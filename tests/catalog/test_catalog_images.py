"""ImageFetcher against a real aiohttp server on 127.0.0.1: retries, limits, content checks, cache."""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import aclosing
from pathlib import Path

import pytest
from catalog_helpers import AVIF, JPEG, PNG, ImageServer

from catalog import ImageFetcher, ImageFetchError, Product, fetch_all
from catalog.images import _retry_after, looks_like_image

# The test server is on 127.0.0.1, which the fetcher refuses unless told it serves an intranet catalog.
FAST = {"backoff_s": 0.01, "timeout_s": 2.0, "max_bytes": 4096, "allow_private_hosts": True}


async def fetch(server: ImageServer, name: str, cache_dir: Path | None = None, **kwargs: object) -> bytes:
    async with ImageFetcher(cache_dir, **{**FAST, **kwargs}) as fetcher:
        return await fetcher.fetch(server.product(name))


async def test_fetch_ok(image_server: ImageServer) -> None:
    assert await fetch(image_server, "ok") == JPEG


async def test_503_is_retried_until_success(image_server: ImageServer) -> None:
    assert await fetch(image_server, "flaky") == JPEG
    assert image_server.hits["flaky"] == 3


async def test_503_gives_up_after_retries(image_server: ImageServer) -> None:
    with pytest.raises(ImageFetchError) as caught:
        await fetch(image_server, "always-503", retries=2)
    assert caught.value.product_id == "always-503"
    assert caught.value.reason == "HTTP 503 (gave up after 3 attempts)"
    assert image_server.hits["always-503"] == 3


async def test_429_honours_small_retry_after(image_server: ImageServer) -> None:
    assert await fetch(image_server, "busy", backoff_s=60.0) == JPEG  # backoff unused: Retry-After: 0 wins
    assert image_server.hits["busy"] == 2


async def test_429_with_long_retry_after_is_not_waited_on(image_server: ImageServer) -> None:
    with pytest.raises(ImageFetchError, match="Retry-After 3600 s"):
        await fetch(image_server, "busy-long")
    assert image_server.hits["busy-long"] == 1


async def test_404_is_not_retried(image_server: ImageServer) -> None:
    with pytest.raises(ImageFetchError) as caught:
        await fetch(image_server, "missing")
    assert caught.value.reason == "HTTP 404"
    assert image_server.hits["missing"] == 1


async def test_timeout_is_retried_then_reported(image_server: ImageServer) -> None:
    with pytest.raises(ImageFetchError, match=r"timed out after 0.2 s \(gave up after 2 attempts\)"):
        await fetch(image_server, "slow", timeout_s=0.2, retries=1)
    assert image_server.hits["slow"] == 2


@pytest.mark.parametrize("name", ["big", "big-chunked"])
async def test_oversize_is_refused(image_server: ImageServer, name: str) -> None:
    with pytest.raises(ImageFetchError, match="too large") as caught:
        await fetch(image_server, name)
    expected = "Content-Length" if name == "big" else "more than 4096 bytes"
    assert expected in caught.value.reason
    assert image_server.hits[name] == 1


async def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    product = Product(
        id="p", title="P", link="https://shop.example/p", image_link=f"http://127.0.0.1:{port}/a.jpg"
    )
    async with ImageFetcher(None, retries=1, **FAST) as fetcher:
        with pytest.raises(ImageFetchError) as caught:
            await fetcher.fetch(product)
    assert caught.value.reason == "connection failed (ClientConnectorError) (gave up after 2 attempts)"


async def test_wrong_content_type_is_refused(image_server: ImageServer) -> None:
    with pytest.raises(ImageFetchError, match="not an image: Content-Type text/html"):
        await fetch(image_server, "html")
    assert image_server.hits["html"] == 1


async def test_octet_stream_needs_image_signature(image_server: ImageServer) -> None:
    assert await fetch(image_server, "octet-png") == PNG
    assert await fetch(image_server, "octet-avif") == AVIF
    with pytest.raises(ImageFetchError, match="without an image signature"):
        await fetch(image_server, "octet-junk")


async def test_cache_hit_makes_no_request(image_server: ImageServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert await fetch(image_server, "ok", cache) == JPEG
    assert await fetch(image_server, "ok", cache) == JPEG  # a fresh fetcher: only the disk remembers
    assert image_server.hits["ok"] == 1
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert len(entries) == 1 and entries[0].read_bytes() == JPEG  # no *.part left behind


async def test_unwritable_cache_costs_nothing_but_a_warning(
    image_server: ImageServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="catalog.images"):
        assert await fetch(image_server, "ok", blocker) == JPEG
    assert "image cache: cannot write" in caplog.text
    assert "/ok" not in caplog.text  # URLs (which may be signed) stay out of the logs


async def test_failures_are_not_cached(image_server: ImageServer, tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(ImageFetchError):
            await fetch(image_server, "missing", tmp_path)
    assert image_server.hits["missing"] == 2


async def test_local_file_and_missing_local_file(tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(JPEG)
    good = Product(id="a", title="A", link="https://shop.example/a", image_link=str(image))
    gone = Product(id="b", title="B", link="https://shop.example/b", image_link=str(tmp_path / "gone.jpg"))
    async with ImageFetcher(None) as fetcher:
        assert await fetcher.fetch(good) == JPEG
        with pytest.raises(ImageFetchError, match="cannot read"):
            await fetcher.fetch(gone)
    async with ImageFetcher(None, max_bytes=10) as fetcher:
        with pytest.raises(ImageFetchError, match="too large"):
            await fetcher.fetch(good)


async def test_iter_images_continues_past_failures(image_server: ImageServer) -> None:
    names = ["ok1", "missing", "ok2", "html", "flaky", "big", "ok3"]
    async with ImageFetcher(None, concurrency=3, **FAST) as fetcher:
        results = [result async for result in fetcher.iter_images(image_server.product(n) for n in names)]
    by_id = {result.product.id: result for result in results}
    assert sorted(by_id) == sorted(names)
    assert {pid for pid, r in by_id.items() if r.ok} == {"ok1", "ok2", "ok3", "flaky"}
    assert by_id["missing"].error == "HTTP 404" and by_id["missing"].data is None
    assert all(r.data == JPEG and r.error is None for r in results if r.ok)


async def test_iter_images_bounds_requests_in_flight(image_server: ImageServer) -> None:
    products = [image_server.product("slow-ok", pid=str(i)) for i in range(8)]
    async with ImageFetcher(None, concurrency=2, **FAST) as fetcher:
        results = [result async for result in fetcher.iter_images(products)]
    assert len(results) == 8 and all(r.ok for r in results)
    assert image_server.max_in_flight == 2


async def test_iter_images_cancels_in_flight_work_when_closed(image_server: ImageServer) -> None:
    products = [image_server.product("slow", pid=str(i)) for i in range(4)] + [image_server.product("ok")]
    async with ImageFetcher(None, concurrency=5, **FAST) as fetcher:
        async with aclosing(fetcher.iter_images(products)) as results:
            async for result in results:
                assert result.product.id == "ok"
                break
        leftovers = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "ImageFetcher._result"]
    assert leftovers == []


async def test_fetch_all_keeps_input_order(image_server: ImageServer, tmp_path: Path) -> None:
    # fetch_all runs its own loop, so it goes to a thread while this loop keeps serving.
    names = ["slow-ok", "missing", "ok"]
    seen = []
    results = await asyncio.to_thread(
        fetch_all, [image_server.product(n) for n in names], tmp_path, progress=seen.append, **FAST
    )
    assert [r.product.id for r in results] == names
    assert [r.ok for r in results] == [True, False, True]
    assert len(seen) == 3


async def test_fetch_outside_context_manager_is_a_usage_error(image_server: ImageServer) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await ImageFetcher(None).fetch(image_server.product("ok"))


async def test_callers_session_is_used_and_left_open(image_server: ImageServer) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with ImageFetcher(None, session=session, **FAST) as fetcher:
            assert await fetcher.fetch(image_server.product("ok")) == JPEG
        assert not session.closed


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert _retry_after(header) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, True),
        (PNG, True),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        (b"\x00\x00\x00\x1cftypavif", True),
        (b"GIF89a", True),
        (b"<html>", False),
        (b"", False),
    ],
)
def test_looks_like_image(data: bytes, expected: bool) -> None:
    assert looks_like_image(data) is expected


def test_invalid_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="concurrency must be >= 1, got 0"):
        ImageFetcher(None, concurrency=0)
