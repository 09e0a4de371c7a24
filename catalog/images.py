"""Load product images (local files or http(s) URLs): bounded concurrency, retries, size cap, disk cache."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import itertools
import logging
import os
import random
import re
import tempfile
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from catalog.address_guard import GuardedResolver, Policy, RefusedAddress, literal_ip, refusal
from catalog.errors import ImageFetchError
from catalog.product import Product

log = logging.getLogger(__name__)

# A server asking for a longer pause than this is treated as "not today" rather than slept on.
MAX_RETRY_AFTER_S = 30.0
MAX_BACKOFF_S = 10.0
MAX_REDIRECTS = 5
ALLOW_PRIVATE_HINT = "set FASHIONBOT_ALLOW_PRIVATE_IMAGE_HOSTS=true for an intranet catalog"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HTTP_SCHEMES = frozenset({"http", "https"})
# Two letters at least, so a Windows drive ("C://photos") stays a path.
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")
_CHUNK = 64 * 1024
_USER_AGENT = "fashionbot-catalog/0.1 (+https://github.com/aio-libs/aiohttp)"
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_ISO_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"})


def looks_like_image(data: bytes) -> bool:
    """True when the bytes open with a JPEG, PNG, GIF, WebP, BMP, TIFF or AVIF/HEIF signature."""
    return (
        data.startswith(_MAGIC)
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or (data[4:8] == b"ftyp" and data[8:12] in _ISO_BRANDS)
    )


@dataclass(frozen=True, slots=True)
class ImageResult:
    """One product's image: ``data`` when it loaded, else ``error`` (a short reason)."""

    product: Product
    data: bytes | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.data is not None


class _Transient(Exception):
    """Worth another try: 5xx, 429, timeouts, dropped connections."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Permanent(Exception):
    """Trying again cannot help: 4xx, not an image, too large."""


class ImageFetcher:
    """Fetches product images; use as ``async with ImageFetcher(cache_dir) as fetcher``.

    Content type: ``image/*`` is accepted; ``application/octet-stream`` (what many object stores send,
    and what aiohttp reports when the header is missing) only when the bytes carry a known image
    signature; anything else (HTML error pages above all) is refused. Retries: 5xx, 429 (its
    Retry-After honoured up to MAX_RETRY_AFTER_S), timeouts and connection errors, with exponential
    backoff and jitter; other 4xx are final. The cache holds successful downloads under sha256(URL).

    Host guard: only http(s) is fetched, redirects are followed by hand (at most MAX_REDIRECTS) and every
    hop is checked. Loopback, private, link-local (cloud metadata), shared, multicast and reserved
    addresses are refused unless ``allow_private_hosts`` (an intranet catalog); refusals are final.
    Literal IPs are checked before each request; names are checked on the addresses DNS returned, by
    our connector's resolver, and the connection goes to exactly those. A caller's ``session`` keeps
    its own connector, so there only the scheme and literal-IP checks apply. ``refuse`` replaces the
    address policy (:func:`catalog.address_guard.refusal`) outright.
    """

    def __init__(
        self,
        cache_dir: Path | None,
        *,
        concurrency: int = 8,
        timeout_s: float = 15.0,
        max_bytes: int = 20 * 2**20,
        retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        connect_timeout_s: float = 5.0,
        backoff_s: float = 0.5,
        allow_private_hosts: bool = False,
        refuse: Policy | None = None,
    ) -> None:
        for name, value, low in (
            ("concurrency", concurrency, 1),
            ("max_bytes", max_bytes, 1),
            ("retries", retries, 0),
        ):
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value!r}")
        if timeout_s <= 0 or connect_timeout_s <= 0 or backoff_s < 0:
            raise ValueError(
                f"timeouts must be > 0 and backoff >= 0, got {timeout_s!r}, {connect_timeout_s!r}, "
                f"{backoff_s!r}"
            )
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._concurrency = concurrency
        # Passed per request, so a caller's session gets the same limits as ours.
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(connect_timeout_s, timeout_s))
        self._max_bytes = max_bytes
        self._retries = retries
        self._backoff_s = backoff_s
        self._session = session
        self._owns_session = session is None
        self._slots = asyncio.Semaphore(concurrency)
        self._refuse = refuse if refuse is not None else (None if allow_private_hosts else refusal)
        self._resolver: GuardedResolver | None = None

    async def __aenter__(self) -> ImageFetcher:
        if self._session is None:
            self._resolver = GuardedResolver(self._refuse) if self._refuse is not None else None
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._concurrency, resolver=self._resolver),
                headers={"User-Agent": _USER_AGENT},
            )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:  # a connector closes only the resolver it made itself
            await self._resolver.close()
            self._resolver = None

    async def fetch(self, product: Product) -> bytes:
        """The bytes of ``product.image_link``; raises ImageFetchError(product.id, reason)."""
        scheme = _URL_SCHEME.match(product.image_link)
        if scheme is None:
            return await asyncio.to_thread(self._read_local, product)
        if scheme.group(1).lower() not in _HTTP_SCHEMES:  # file://, ftp://...: never read as a path
            raise ImageFetchError(product.id, f"refused: {_scheme_refusal(scheme.group(1).lower())}")
        url = scheme.group(1).lower() + product.image_link[scheme.end(1) :]
        cache_path = self._cache_path(url)
        if cache_path is not None:
            cached = await asyncio.to_thread(_read_cached, cache_path)
            if cached is not None:
                return cached
        data = await self._download(product.id, url)
        if cache_path is not None:
            await asyncio.to_thread(_write_cached, cache_path, data)
        return data

    async def iter_images(self, products: Iterable[Product]) -> AsyncGenerator[ImageResult, None]:
        """Yield one ImageResult per product as each completes; failures are results, not exceptions."""
        async with aclosing(self._iter_indexed(products)) as results:
            async for _, result in results:
                yield result

    async def _iter_indexed(self, products: Iterable[Product]) -> AsyncGenerator[tuple[int, ImageResult], None]:
        # Tasks are created as slots free up, so a 100 000-product feed never holds 100 000 tasks.
        todo = enumerate(products)
        pending: set[asyncio.Task[tuple[int, ImageResult]]] = set()
        try:
            while True:
                for index, product in itertools.islice(todo, self._concurrency - len(pending)):
                    pending.add(asyncio.create_task(self._result(index, product)))
                if not pending:
                    return
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _result(self, index: int, product: Product) -> tuple[int, ImageResult]:
        try:
            return index, ImageResult(product, await self.fetch(product), None)
        except ImageFetchError as exc:
            log.info("image skipped: %s", exc)
            return index, ImageResult(product, None, exc.reason)

    def _read_local(self, product: Product) -> bytes:
        path = Path(product.image_link)
        try:
            size = path.stat().st_size
            if size > self._max_bytes:
                raise ImageFetchError(product.id, f"too large: {size} bytes > cap {self._max_bytes}")
            data = path.read_bytes()
        except OSError as exc:
            raise ImageFetchError(product.id, f"cannot read {path}: {exc.strerror or exc}") from None
        if not data:
            raise ImageFetchError(product.id, f"empty file {path}")
        return data

    async def _download(self, product_id: str, url: str) -> bytes:
        attempts = self._retries + 1
        for attempt in range(attempts):
            try:
                async with self._slots:
                    return await self._get_once(url)
            except _Permanent as exc:
                raise ImageFetchError(product_id, str(exc)) from None
            except _Transient as exc:
                failure = exc
            if failure.retry_after is not None and failure.retry_after > MAX_RETRY_AFTER_S:
                raise ImageFetchError(
                    product_id, f"{failure}, Retry-After {failure.retry_after:.0f} s: not waiting"
                )
            if attempt + 1 == attempts:
                break
            delay = failure.retry_after if failure.retry_after is not None else self._backoff(attempt)
            log.debug(
                "product %r: %s; retry %d/%d in %.2f s",
                product_id,
                failure,
                attempt + 1,
                self._retries,
                delay,
            )
            await asyncio.sleep(delay)  # outside the semaphore: a waiting retry holds no slot
        raise ImageFetchError(product_id, f"{failure} (gave up after {attempts} attempts)")

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": at least half the exponential step, so retries spread out but never bunch at 0.
        step = min(self._backoff_s * 2**attempt, MAX_BACKOFF_S)
        return step / 2 + random.uniform(0, step / 2)

    async def _get_once(self, url: str) -> bytes:
        if self._session is None:
            raise RuntimeError("ImageFetcher is not open; use 'async with ImageFetcher(...) as fetcher'")
        try:
            target = URL(url)
        except ValueError:
            raise _Permanent("invalid URL") from None
        # Redirects by hand: aiohttp would follow them without asking where they lead.
        for hop in range(MAX_REDIRECTS + 1):
            refused = "refused after redirect: " if hop else "refused: "
            if (why := self._hop_refusal(target)) is not None:
                raise _Permanent(refused + why)
            # Reasons name the error type, never str(exc): aiohttp puts URLs there, and signed URLs are secrets.
            try:
                # raise_for_status=False: a caller's session may raise on 5xx itself, and we classify statuses.
                async with self._session.get(
                    target, timeout=self._timeout, raise_for_status=False, allow_redirects=False
                ) as response:
                    if response.status not in _REDIRECT_STATUSES:
                        return await self._read_body(response)
                    target = _redirect_target(response)
            except TimeoutError:
                raise _Transient(f"timed out after {self._timeout.total:g} s") from None
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, RefusedAddress):
                    raise _Permanent(f"{refused}{exc.os_error} ({ALLOW_PRIVATE_HINT})") from None
                raise _Transient(f"connection failed ({type(exc).__name__})") from None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                raise _Transient(f"connection failed ({type(exc).__name__})") from None
            except aiohttp.ClientError as exc:
                raise _Permanent(f"request failed ({type(exc).__name__})") from None
        raise _Permanent(f"too many redirects (more than {MAX_REDIRECTS})")

    def _hop_refusal(self, url: URL) -> str | None:
        # Literal IPs never reach a resolver, so they are checked here; names are the resolver's job.
        if url.scheme not in _HTTP_SCHEMES:
            return _scheme_refusal(url.scheme)
        if not url.host:
            return "URL without a host"
        ip = literal_ip(url.host)
        if ip is None:
            if ":" in url.host:  # aiohttp would dial anything with a colon as an IPv6 address
                return f"{url.host} is not a valid IP address"
            return None
        why = self._refuse(ip) if self._refuse is not None else None
        return f"{url.host} is {why} ({ALLOW_PRIVATE_HINT})" if why is not None else None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        status = response.status
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if not 200 <= status < 300:
            raise _Permanent(f"HTTP {status}")
        length = response.content_length
        if length is not None and length > self._max_bytes:
            raise _Permanent(f"too large: Content-Length {length} > cap {self._max_bytes}")
        content_type = response.content_type.lower()
        if not content_type.startswith("image/") and content_type != "application/octet-stream":
            raise _Permanent(f"not an image: Content-Type {content_type}")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self._max_bytes:  # Content-Length may be absent or lie
                raise _Permanent(f"too large: more than {self._max_bytes} bytes")
        if not body:
            raise _Permanent("empty body")
        # bytes, not the bytearray: a bytearray slice is unhashable, so the AVIF/HEIF brand lookup would raise.
        data = bytes(body)
        if content_type == "application/octet-stream" and not looks_like_image(data):
            raise _Permanent("not an image: application/octet-stream without an image signature")
        return data

    def _cache_path(self, url: str) -> Path | None:
        if self._cache_dir is None:
            return None
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self._cache_dir / digest[:2] / digest  # fan out: one flat folder of 10^5 files is slow


def _scheme_refusal(scheme: str) -> str:
    return f"{scheme or 'scheme-less'} URLs are not fetched (only http and https)"


def _redirect_target(response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location")
    if not location:
        raise _Permanent(f"HTTP {response.status} without a Location")
    try:
        return response.url.join(URL(location))
    except ValueError:
        raise _Permanent(f"HTTP {response.status} to an invalid Location") from None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _read_cached(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("image cache: cannot read %s (%s); downloading again", path, exc.strerror or exc)
        return None
    return data or None  # an empty entry is what a power cut before the data reached the disk leaves


def _write_cached(path: Path, data: bytes) -> None:
    # Temp file + os.replace: a crash leaves a stray *.part, never a half image under the real name.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        # The cache only saves time; a full or read-only disk must not cost the product its image.
        log.warning("image cache: cannot write %s (%s)", path, exc.strerror or exc)


def fetch_all(
    products: Iterable[Product],
    cache_dir: Path | None = None,
    *,
    progress: Callable[[ImageResult], None] | None = None,
    allow_private_hosts: bool = False,
    **kwargs: Any,
) -> list[ImageResult]:
    """Synchronous: fetch every product's image on a private event loop; results in input order.

    ``allow_private_hosts`` and ``kwargs`` go to ImageFetcher; ``progress`` is called with each result
    as it completes.
    """
    products = list(products)

    async def run() -> list[ImageResult]:
        by_index: dict[int, ImageResult] = {}
        async with (
            ImageFetcher(cache_dir, allow_private_hosts=allow_private_hosts, **kwargs) as fetcher,
            aclosing(fetcher._iter_indexed(products)) as results,
        ):
            async for index, result in results:
                by_index[index] = result
                if progress is not None:
                    progress(result)
        return [by_index[index] for index in range(len(products))]

    return asyncio.run(run())
