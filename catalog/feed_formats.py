"""Merchant feed syntaxes (delimited text, RSS/Atom XML) → numbered rows of (name, value) pairs."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any, NamedTuple, NoReturn
from xml.parsers import expat

from catalog.errors import FeedError
from catalog.product import is_web_url

GOOGLE_NS = "http://base.google.com/ns/1.0"
REQUIRED = ("id", "title", "link", "image_link")
MULTI = "additional_image_link"

_DELIMITERS = ",\t;|"
_ALIASES = {"additional_image_links": MULTI}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class RawRow(NamedTuple):
    """One feed entry as its syntax saw it, before any Merchant rule is checked."""

    line: int
    pairs: list[tuple[str, str]]
    problem: str | None = None


def normalise_name(raw: str) -> str:
    """'G:Image Link', 'image-link' and 'image_link' all name the same Merchant attribute."""
    name = raw.strip().lower()
    name = name.removeprefix("g:").strip()
    name = re.sub(r"[\s\-]+", "_", name)
    return _ALIASES.get(name, name)


def sniff_is_xml(data: bytes, path: Path) -> bool:
    """Decide XML vs delimited text from the first non-blank character, not from the extension."""
    if data.startswith(b"PK\x03\x04"):
        raise FeedError(f"{path}: is a ZIP/XLSX archive; export the sheet as CSV, TSV or XML")
    if data.startswith(b"\x1f\x8b"):
        raise FeedError(f"{path}: is gzip-compressed; decompress it first")
    head = data[:4096]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :].decode(encoding, errors="ignore").encode("utf-8")
            break
    head = head.lstrip()
    if not head:
        raise FeedError(f"{path}: feed is empty")
    return head.startswith(b"<")


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 with or without BOM; UTF-16 only with a BOM (what spreadsheet 'Unicode text' exports write)."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"{path}: not {'UTF-16' if utf16 else 'UTF-8'} text (bad byte at offset {exc.start}); "
            "save the feed as UTF-8"
        ) from None


def read_delimited(text: str, path: Path) -> list[RawRow]:
    """CSV/TSV rows numbered by the physical line each starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_choose_delimiter(text, path))
    header: list[str] | None = None
    rows: list[RawRow] = []
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue  # blank lines and all-empty rows (",,,,") are spreadsheet residue, not products
            if header is None:
                header = [normalise_name(field) for field in fields]
                _require_columns(header, path)
                continue
            rows.append(_delimited_row(line, header, fields))
    except csv.Error as exc:
        raise FeedError(f"{path}: line {reader.line_num}: unreadable delimited text ({exc})") from None
    if header is None:
        raise FeedError(f"{path}: feed is empty")
    return rows


def _delimited_row(line: int, header: list[str], fields: list[str]) -> RawRow:
    problem = None
    if any(field.strip() for field in fields[len(header) :]):
        # Filled cells past the header almost always mean an unquoted delimiter inside a value: the cells
        # after it are shifted, so the row is reported (with its id, if the id came first) and skipped.
        # Empty ones are only a trailing delimiter, which some exporters add to every row.
        problem = f"malformed row: {len(fields)} fields, header has {len(header)}"
    pairs: list[tuple[str, str]] = []
    for name, value in zip(header, fields, strict=False):  # short rows: trailing cells are empty
        if not name:
            continue
        pairs.append((name, value))  # additional_image_link cells are split by the reader (split_links)
    return RawRow(line, pairs, problem)


_LINK_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


def split_links(cell: str) -> list[str]:
    """A comma-separated additional_image_link cell → its links, blanks dropped.

    Merchant Center separates the links with commas, yet a URL may hold one ("…/a,b.jpg"): after an
    http(s) URL, only a comma followed by whitespace or by the next link's scheme ("…jpg,https://…")
    starts a new link. Between local paths every comma separates, as before.
    """
    parts: list[str] = []
    for piece in cell.split(","):
        glued = (
            parts
            and piece
            and not piece[0].isspace()
            and not _LINK_START.match(piece)
            and is_web_url(parts[-1].lstrip())
        )
        if glued:
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return [part.strip() for part in parts if part.strip()]


def _require_columns(header: list[str], path: Path) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        # A feed that is one enormous line would otherwise put megabytes of "names" in the message.
        names = [name if len(name) <= 40 else name[:37] + "..." for name in header if name]
        found = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "") or "nothing"
        raise FeedError(f"{path}: header lacks required column(s) {', '.join(missing)} (found: {found})")


def _choose_delimiter(text: str, path: Path) -> str:
    # The delimiter is the one that splits the header into the required Merchant columns (no delimiter
    # character can appear in their names), tried in the extension's order. csv.Sniffer is not used: its
    # quote-guessing regexes take tens of seconds on a quote-heavy first row, which anyone can upload.
    sample = text[:65536]
    header_line = next((ln for ln in io.StringIO(sample, newline="") if ln.strip()), "")
    default = "\t" if path.suffix.lower() in {".tsv", ".tab", ".txt"} else ","
    guesses = [default, *(d for d in _DELIMITERS if d != default)]
    cells = {d: next(csv.reader([header_line], delimiter=d), []) for d in guesses}
    for delimiter in guesses:
        if {normalise_name(cell) for cell in cells[delimiter]}.issuperset(REQUIRED):
            return delimiter
    # None fits: the one that splits the header most, so the "header lacks …" error lists real names.
    return max(guesses, key=lambda d: len(cells[d]))


def read_xml(data: bytes, path: Path) -> list[RawRow]:
    """RSS 2.0 <item>s (or Atom <entry>s), numbered by the line of their start tag."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body, offset = data, 0
    else:
        # Blank lines before "<?xml" are an expat error, yet generated feeds often start that way: drop them
        # (and a UTF-8 BOM, which implies the encoding anyway) but keep counting lines from the file's top.
        body = data.removeprefix(codecs.BOM_UTF8)
        start = len(body) - len(body.lstrip(b" \t\r\n"))
        body, offset = body[start:], body[:start].count(b"\n")
    try:
        return _XmlItems(path, offset).parse(body)
    except _UnboundPrefix:
        # "<g:id>" without xmlns:g declared: not namespace-well-formed, but every other part of the feed
        # is fine and Merchant Center reads it. Read the names as written, "g:" marking Google's.
        return _XmlItems(path, offset, namespaces=False).parse(body)


class _UnboundPrefix(Exception):
    pass


_UNBOUND_PREFIX = expat.errors.codes[expat.errors.XML_ERROR_UNBOUND_PREFIX]


class _XmlItems:
    """Expat callbacks turning each item's direct children into pairs; entity declarations are refused."""

    def __init__(self, path: Path, line_offset: int, *, namespaces: bool = True) -> None:
        self.path = path
        self.line_offset = line_offset
        self.namespaces = namespaces
        self.parser = parser = expat.ParserCreate(namespace_separator=" " if namespaces else None)
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        # What defusedxml does: entity declarations are how both "billion laughs" and external-entity
        # (file / network) reads begin, and no product feed needs them.
        parser.EntityDeclHandler = self._forbid
        parser.UnparsedEntityDeclHandler = self._forbid
        parser.ExternalEntityRefHandler = self._forbid
        self.root: str | None = None
        self.rows: list[RawRow] = []
        self._depth = 0
        self._item_depth: int | None = None
        self._item_line = 0
        self._fields: list[tuple[str, bool, str]] = []  # (name, in Google's namespace, value)
        self._field: tuple[str, bool, str] = ("", False, "")  # (name, in Google's namespace, Atom href)
        self._text_parts: list[str] = []
        self._child_parts: list[str] = []
        self._children: list[str] = []

    def parse(self, data: bytes) -> list[RawRow]:
        try:
            self.parser.Parse(data, True)
        except expat.ExpatError as exc:
            if exc.code == _UNBOUND_PREFIX and self.namespaces:
                raise _UnboundPrefix from None
            where = f"line {exc.lineno + self.line_offset}, column {exc.offset + 1}"
            raise FeedError(
                f"{self.path}: not well-formed XML ({expat.ErrorString(exc.code)} at {where})"
            ) from None
        # A bare <channel> (the <rss> wrapper left off) is how some generators write RSS; Merchant reads it.
        if self.root not in {"rss", "feed", "channel"}:
            raise FeedError(f"{self.path}: XML root is <{self.root}>, expected RSS 2.0 <rss> or Atom <feed>")
        return self.rows

    def _forbid(self, *_: Any) -> NoReturn:
        line = self.parser.CurrentLineNumber + self.line_offset
        raise FeedError(f"{self.path}: line {line}: XML entity declarations are not allowed in a feed")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self.namespaces:
            namespace, _, local = name.rpartition(" ")
            google = namespace == GOOGLE_NS
        else:
            prefix, _, local = name.rpartition(":")
            google = prefix.lower() == "g"
        if self.root is None:
            self.root = local
        if self._item_depth is None:
            if local in {"item", "entry"}:
                self._item_depth, self._fields = self._depth, []
                self._item_line = self.parser.CurrentLineNumber + self.line_offset
            return
        level = self._depth - self._item_depth
        if level == 1:
            # Atom gives the product page as <link href="…"/>; rel="self" and friends are not it.
            href = attrs.get("href", "") if attrs.get("rel", "alternate") == "alternate" else ""
            self._field = (normalise_name(local), google, href)
            self._text_parts, self._children = [], []
        elif level == 2:
            self._child_parts = []

    def _text(self, data: str) -> None:
        if self._item_depth is None:
            return
        level = self._depth - self._item_depth
        if level == 1:
            self._text_parts.append(data)
        elif level == 2:
            self._child_parts.append(data)

    def _end(self, _name: str) -> None:
        level = None if self._item_depth is None else self._depth - self._item_depth
        self._depth -= 1
        if level == 2:
            self._children.append("".join(self._child_parts).strip())
        elif level == 1:
            name, google, href = self._field
            # Structured attributes (<g:shipping><g:country>…) flatten to Merchant-like text: "US:4.95 USD".
            value = "".join(self._text_parts).strip() or ":".join(c for c in self._children if c) or href
            self._fields.append((name, google, value))
        elif level == 0:
            self.rows.append(RawRow(self._item_line, self._prefer_google(self._fields)))
            self._item_depth = None

    @staticmethod
    def _prefer_google(fields: list[tuple[str, bool, str]]) -> list[tuple[str, str]]:
        # <g:id> is the product id; a plain RSS/Atom <id>, <title> or <link> only fills a gap.
        google = {name for name, in_google, _ in fields if in_google}
        return [(name, value) for name, in_google, value in fields if in_google or name not in google]
