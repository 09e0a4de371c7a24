"""Read and write Google Merchant Center feeds: each good row becomes a Product, each bad one a reason."""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from catalog.errors import FeedError
from catalog.feed_formats import (
    MULTI,
    REQUIRED,
    RawRow,
    decode_text,
    read_delimited,
    read_xml,
    sniff_is_xml,
    split_links,
)
from catalog.product import Product

log = logging.getLogger(__name__)

OPTIONAL = (
    "price",
    "brand",
    "color",
    "gender",
    "age_group",
    "product_type",
    "google_product_category",
    "availability",
)
COLUMNS = (*REQUIRED, *OPTIONAL, MULTI)
_KNOWN = frozenset((*REQUIRED, *OPTIONAL))
# Two letters at least, so a Windows drive ("C:\shoes.jpg") reads as a path, not a scheme.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_WHITESPACE = re.compile(r"\s")
_WEB_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)$", re.DOTALL)
# What stays as written in a URL's path, query and fragment: RFC 3986's reserved characters and "%"
# (quote keeps letters, digits and "_.-~"); spaces, controls, non-ASCII and `"<>\^{|}` get percent-encoded.
_URL_SAFE = "!#$&'()*+,/:;=?@[]%"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A feed row left out. ``line``: CSV/TSV physical line the row starts on; XML line of the item's tag.

    ``reason`` reads "<kind>" or "<kind>: <detail>"; the kind is what ``FeedReport.summary`` counts.
    """

    line: int
    product_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one feed yielded; ``source_hash`` is the sha256 of the file's bytes (hex).

    ``columns``: the Merchant attribute names the feed uses (normalised, in first-seen order: a CSV/TSV
    header's cells, the names of XML items' fields), whether or not any row fills them.
    """

    products: list[Product]
    skipped: list[SkippedRow]
    source_hash: str
    columns: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for logs and /reindex replies: '812 products, 3 skipped: 2 missing image_link, 1 …'."""
        head = f"{len(self.products)} product{'' if len(self.products) == 1 else 's'}"
        if not self.skipped:
            return f"{head}, none skipped"
        kinds = Counter(row.reason.partition(":")[0] for row in self.skipped)
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"{head}, {len(self.skipped)} skipped: {detail}"


def read_feed(path: Path) -> FeedReport:
    """Parse a Merchant feed (CSV, TSV or RSS/Atom XML, detected from content); bad rows are skipped."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"{path}: cannot read feed ({exc.strerror or exc})") from None
    rows = read_xml(data, path) if sniff_is_xml(data, path) else read_delimited(decode_text(data, path), path)
    base_dir = path.resolve().parent
    products: list[Product] = []
    skipped: list[SkippedRow] = []
    first_line: dict[str, int] = {}
    for row in rows:
        outcome = _to_product(row, base_dir, first_line)
        if isinstance(outcome, SkippedRow):
            skipped.append(outcome)
        else:
            products.append(outcome)
    columns = tuple(dict.fromkeys(name for row in rows for name, _ in row.pairs))
    report = FeedReport(products, skipped, hashlib.sha256(data).hexdigest(), columns)
    log.info("feed %s: %s", path, report.summary())
    return report


def _to_product(row: RawRow, base_dir: Path, first_line: dict[str, int]) -> Product | SkippedRow:
    values: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    additional: list[str] = []
    for name, raw in row.pairs:
        # Quoted multi-line cells keep the exporter's line ends; Windows ones would leak "\r" into titles.
        value = raw.strip().replace("\r\n", "\n").replace("\r", "\n")
        if not value:
            continue
        if name == MULTI:
            additional.extend(split_links(value))
        elif name in _KNOWN:
            values.setdefault(name, value)  # a repeated column: the first filled one wins
        else:
            extra.setdefault(name, []).append(value)
    if row.problem:
        return SkippedRow(row.line, values.get("id"), row.problem)
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        return SkippedRow(row.line, values.get("id"), "missing " + ", ".join(missing))
    product_id = values["id"]
    if product_id in first_line:
        return SkippedRow(row.line, product_id, f"duplicate id: first on line {first_line[product_id]}")
    try:
        values["link"] = web_url(values["link"])
    except ValueError as exc:
        return SkippedRow(row.line, product_id, f"invalid link: {exc}")
    try:
        values["image_link"] = _resolve_image(values["image_link"], base_dir)
    except ValueError as exc:
        return SkippedRow(row.line, product_id, str(exc))
    first_line[product_id] = row.line
    return Product(
        id=product_id,
        title=values["title"],
        link=values["link"],
        image_link=values["image_link"],
        price=values.get("price"),
        brand=values.get("brand"),
        color=values.get("color"),
        gender=values.get("gender"),
        age_group=values.get("age_group"),
        product_type=values.get("product_type"),
        google_product_category=values.get("google_product_category"),
        availability=values.get("availability"),
        additional_image_links=_resolve_additional(additional, base_dir, row.line, product_id),
        extra={name: ",".join(parts) for name, parts in extra.items()},
    )


def _resolve_additional(links: list[str], base_dir: Path, line: int, product_id: str) -> tuple[str, ...]:
    # A bad extra picture costs the product that picture only, not its place in the catalog.
    resolved = []
    for link in links:
        try:
            resolved.append(_resolve_image(link, base_dir))
        except ValueError as exc:
            log.warning("line %d, product %r: additional_image_link dropped (%s)", line, product_id, exc)
    return tuple(resolved)


def _resolve_image(value: str, base_dir: Path) -> str:
    """An http(s) URL as given, or an absolute path to an existing file; ValueError(reason) otherwise."""
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() == "file":
        try:
            path = Path(url2pathname(urlsplit(value).path))
        except ValueError:  # "file://[::1/a.jpg": urlsplit refuses the host part
            raise ValueError(f"invalid image_link: {_shown(value)} is not a file URL") from None
    elif scheme:
        try:
            return web_url(value)
        except ValueError as exc:
            raise ValueError(f"invalid image_link: {exc}") from None
    else:
        path = Path(value)
    try:
        path = (base_dir / path).resolve()  # an absolute `path` ignores base_dir
        found = path.is_file()
    except (OSError, ValueError):  # a NUL byte, or a name longer than the file system allows
        raise ValueError(f"invalid image_link: {_shown(value)} is not a usable file path") from None
    if not found:
        raise ValueError(f"image not found: {path}")
    return str(path)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def web_url(value: str) -> str:
    """An http(s) URL as Merchant Center takes it, percent-encoded where needed; ValueError(reason) if none.

    Spaces, controls and non-ASCII characters in the path, query and fragment are percent-encoded (what
    is already escaped, and RFC 3986's reserved characters, stay as written); an IDN host becomes
    punycode; the scheme is lower-cased (Product.image_is_remote, and so the fetcher, looks for
    "http(s)://"). A URL that needs none of that comes back unchanged.
    """
    shown = _shown(value)
    match = _WEB_URL.match(value)
    if not match or match.group(1).lower() not in {"http", "https"}:
        raise ValueError(f"{shown} is not an http(s) URL")
    scheme, authority, rest = match.groups()
    if _WHITESPACE.search(authority) or not authority.isprintable():
        raise ValueError(f"{shown} has whitespace or control characters in its host")
    if not authority.isascii():
        userinfo, at, hostport = authority.rpartition("@")
        host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else ("", "", "")
        if not colon or not port.isdigit():
            host, colon, port = hostport, "", ""
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{shown} has an invalid host name") from None
        authority = quote(userinfo, safe=_URL_SAFE) + at + host + colon + port
    try:
        hostname = urlsplit(f"{scheme}://{authority}/").hostname
    except ValueError:
        raise ValueError(f"{shown} is not a URL") from None
    if not hostname:
        raise ValueError(f"{shown} is not an http(s) URL")
    return f"{scheme.lower()}://{authority}{quote(_LONE_PERCENT.sub('%25', rest), safe=_URL_SAFE)}"


def write_feed_csv(products: Iterable[Product], path: Path) -> int:
    """Write a Merchant CSV (TSV for .tsv/.tab/.txt) that ``read_feed`` reads back; returns rows written.

    Local images under the feed's folder are written relative to it, so the folder can move (or be
    committed) as a whole. The file is replaced atomically: readers never see half a feed.
    """
    path = Path(path)
    products = list(products)
    base_dir = path.resolve().parent
    extra_names = sorted({name for product in products for name in product.extra} - set(COLUMNS))
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab", ".txt"} else ","
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
            writer.writerow([*COLUMNS, *extra_names])
            for product in products:
                links = [_relative(link, base_dir) for link in product.additional_image_links]
                if split_links(",".join(links)) != links:
                    log.warning(
                        "product %r: an additional image link holds a comma; it will not round-trip",
                        product.id,
                    )
                writer.writerow(
                    [
                        product.id,
                        product.title,
                        product.link,
                        _relative(product.image_link, base_dir),
                        *(getattr(product, name) or "" for name in OPTIONAL),
                        ",".join(links),
                        *(product.extra.get(name, "") for name in extra_names),
                    ]
                )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("wrote %d products to %s", len(products), path)
    return len(products)


def _relative(link: str, base_dir: Path) -> str:
    if _SCHEME.match(link):
        return link
    try:
        return Path(link).relative_to(base_dir).as_posix()
    except ValueError:
        return link
