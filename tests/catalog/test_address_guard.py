"""The SSRF guard: which addresses image downloads may reach, before and after DNS and across redirects."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import AsyncIterator
from ipaddress import IPv4Address, ip_address

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from catalog_helpers import JPEG, ImageServer, serving

from catalog import ImageFetcher, ImageFetchError, Product, fetch_all
from catalog.address_guard import GuardedResolver, RefusedAddress, literal_ip, refusal
from catalog.images import ALLOW_PRIVATE_HINT, MAX_REDIRECTS

FAST = {"backoff_s": 0.01, "timeout_s": 2.0, "max_bytes": 4096}
LOCALHOST = IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("169.254.169.254", "a link-local (cloud metadata) address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("100.127.255.254", "a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a link-local (cloud metadata) address"),
        ("fec0::1", "a site-local address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("192.0.2.1", "a reserved address"),  # documentation range
        ("::7f00:1", "a reserved address"),  # deprecated IPv4-compatible form
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("172.32.0.1", None),  # just past 172.16/12
        ("100.128.0.1", None),  # just past 100.64/10
        ("2606:4700::1", None),
        ("::ffff:93.184.216.34", None),
    ],
)
def test_refusal_names_the_address_class(address: str, expected: str | None) -> None:
    assert refusal(address) == expected
    assert refusal(ip_address(address)) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("example.com", None),
        ("cafe.be", None),
        ("localhost", None),
    ],
)
def test_literal_ip_reads_every_spelling_a_socket_accepts(host: str, expected: str | None) -> None:
    found = literal_ip(host)
    assert (str(found) if found is not None else None) == expected


class StubResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_keeps_only_public_addresses() -> None:
    resolver = GuardedResolver(inner=StubResolver("10.0.0.5", "93.184.216.34", "::1"))
    assert [r["host"] for r in await resolver.resolve("mixed.example", 80)] == ["93.184.216.34"]


async def test_resolver_refuses_a_name_with_only_internal_addresses() -> None:
    resolver = GuardedResolver(inner=StubResolver("169.254.169.254", "10.0.0.5"))
    with pytest.raises(RefusedAddress) as caught:
        await resolver.resolve("rebind.example", 80)
    assert str(caught.value) == "rebind.example resolves to 169.254.169.254, a link-local (cloud metadata) address"


def loopback_reason(host: str) -> str:
    return f"refused: {host} is a loopback address ({ALLOW_PRIVATE_HINT})"


async def test_default_refuses_the_local_server_by_ip_and_by_name(image_server: ImageServer) -> None:
    url = image_server.url("ok")
    port = image_server.server.port
    links = {
        "ip": url,
        "name": url.replace("127.0.0.1", "localhost"),  # a DNS name resolving to loopback
        "v6": f"http://[::1]:{port}/ok",
        "mapped": f"http://[::ffff:127.0.0.1]:{port}/ok",
        "legacy": f"http://2130706433:{port}/ok",
        "upper": url.replace("http://", "HTTP://"),
    }
    products = [Product(id=k, title=k, link="https://shop.example/p", image_link=v) for k, v in links.items()]
    async with ImageFetcher(None, retries=3, **FAST) as fetcher:
        results = {r.product.id: r.error async for r in fetcher.iter_images(products)}
    assert results["ip"] == results["upper"] == loopback_reason("127.0.0.1")
    assert results["v6"] == loopback_reason("::1")
    assert results["mapped"] == loopback_reason("::ffff:7f00:1")
    assert results["legacy"] == loopback_reason("2130706433")
    assert results["name"] in {
        f"refused: localhost resolves to {ip}, a loopback address ({ALLOW_PRIVATE_HINT})" for ip in ("127.0.0.1", "::1")
    }
    assert sum(image_server.hits.values()) == 0  # refused before any request, and never retried


async def test_fetch_all_refuses_by_default_and_allows_when_told(image_server: ImageServer) -> None:
    import asyncio

    products = [image_server.product("ok")]
    refused = await asyncio.to_thread(fetch_all, products, None, **FAST)
    assert refused[0].error == loopback_reason("127.0.0.1")
    assert image_server.hits["ok"] == 0
    allowed = await asyncio.to_thread(fetch_all, products, None, allow_private_hosts=True, **FAST)
    assert allowed[0].data == JPEG


@pytest.mark.parametrize(
    ("link", "scheme"),
    [
        ("ftp://files.example/a.jpg", "ftp"),
        ("file:///etc/passwd", "file"),
        ("gopher://x.example/1", "gopher"),
        ("FILE:///etc/passwd", "file"),
    ],
)
async def test_non_http_links_are_refused_not_read_as_paths(link: str, scheme: str) -> None:
    product = Product(id="p", title="P", link="https://shop.example/p", image_link=link)
    async with ImageFetcher(None, allow_private_hosts=True) as fetcher:
        with pytest.raises(ImageFetchError) as caught:
            await fetcher.fetch(product)
    assert caught.value.reason == f"refused: {scheme} URLs are not fetched (only http and https)"


class RedirectServer:
    """Answers /to?loc=X with a 302 to X, /loop with a 302 to itself, /img with an image; counts hits."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] += 1
        if name == "to":
            return web.Response(status=302, headers={"Location": request.query["loc"]})
        if name == "loop":
            return web.Response(status=307, headers={"Location": "/loop"})
        if name == "img":
            return web.Response(body=JPEG, content_type="image/jpeg")
        raise web.HTTPNotFound()

    def product(self, location: str) -> Product:
        assert self.server is not None
        url = self.server.make_url("/to").with_query(loc=location)
        return Product(id="p", title="P", link="https://shop.example/p", image_link=str(url))


@pytest.fixture
async def redirects() -> AsyncIterator[RedirectServer]:
    server = RedirectServer()
    async with serving(server.handle) as server.server:
        yield server


def only_localhost(ip) -> str | None:
    """A policy that treats 127.0.0.1 (the test server) as public and everything else as usual."""
    return None if ip == LOCALHOST else refusal(ip)


async def test_an_allowed_redirect_is_followed(redirects: RedirectServer) -> None:
    async with ImageFetcher(None, refuse=only_localhost, **FAST) as fetcher:
        assert await fetcher.fetch(redirects.product("/img")) == JPEG
    assert redirects.hits == Counter({"to": 1, "img": 1})


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("ftp://files.example/a.jpg", "ftp URLs are not fetched (only http and https)"),
        ("file:///etc/passwd", "file URLs are not fetched (only http and https)"),
        ("gopher://x.example/1", "gopher URLs are not fetched (only http and https)"),
        (
            "http://169.254.169.254/latest/meta-data",
            f"169.254.169.254 is a link-local (cloud metadata) address ({ALLOW_PRIVATE_HINT})",
        ),
        ("http://10.0.0.1/img", f"10.0.0.1 is a private address ({ALLOW_PRIVATE_HINT})"),
        ("http://[::1]:{port}/img", f"::1 is a loopback address ({ALLOW_PRIVATE_HINT})"),
    ],
)
@pytest.mark.parametrize("own_session", [False, True])
async def test_each_redirect_hop_is_checked(
    redirects: RedirectServer, location: str, reason: str, own_session: bool
) -> None:
    assert redirects.server is not None
    product = redirects.product(location.format(port=redirects.server.port))
    async with aiohttp.ClientSession() as session:
        kwargs = {"session": session} if own_session else {}
        async with ImageFetcher(None, refuse=only_localhost, retries=3, **kwargs, **FAST) as fetcher:
            with pytest.raises(ImageFetchError) as caught:
                await fetcher.fetch(product)
    assert caught.value.reason == f"refused after redirect: {reason}"
    assert redirects.hits == Counter({"to": 1})  # refused once, never retried, never followed


async def test_a_redirect_to_a_name_is_checked_on_its_resolved_address(redirects: RedirectServer) -> None:
    assert redirects.server is not None
    calls = Counter[str]()

    def first_hop_only(ip) -> str | None:
        # The literal 127.0.0.1 of the first hop passes; "localhost" of the second hop is resolved and refused.
        calls["policy"] += 1
        return None if calls["policy"] == 1 else refusal(ip)

    product = redirects.product(f"http://localhost:{redirects.server.port}/img")
    async with ImageFetcher(None, refuse=first_hop_only, **FAST) as fetcher:
        with pytest.raises(ImageFetchError) as caught:
            await fetcher.fetch(product)
    assert caught.value.reason in {
        f"refused after redirect: localhost resolves to {ip}, a loopback address ({ALLOW_PRIVATE_HINT})"
        for ip in ("127.0.0.1", "::1")
    }
    assert redirects.hits == Counter({"to": 1})


async def test_redirect_loops_stop(redirects: RedirectServer) -> None:
    assert redirects.server is not None
    loop = str(redirects.server.make_url("/loop"))
    product = Product(id="p", title="P", link="https://shop.example/p", image_link=loop)
    async with ImageFetcher(None, allow_private_hosts=True, **FAST) as fetcher:
        with pytest.raises(ImageFetchError) as caught:
            await fetcher.fetch(product)
    assert caught.value.reason == f"too many redirects (more than {MAX_REDIRECTS})"
    assert redirects.hits["loop"] == MAX_REDIRECTS + 1


async def test_callers_session_still_gets_the_literal_ip_check(image_server: ImageServer) -> None:
    async with aiohttp.ClientSession() as session, ImageFetcher(None, session=session, **FAST) as fetcher:
        with pytest.raises(ImageFetchError) as caught:
            await fetcher.fetch(image_server.product("ok"))
    assert caught.value.reason == loopback_reason("127.0.0.1")
    assert image_server.hits["ok"] == 0
