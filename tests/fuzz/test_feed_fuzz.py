"""Fuzzing read_feed: any bytes give a report or a FeedError, and every data row ends as a product or a reason."""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import FeedError, FeedReport, read_feed

FUZZ = settings.get_profile("fuzz")
MERCHANT = ("id", "title", "link", "image_link", "price", "description", "brand", "color", "gender",
            "additional_image_link")
REQUIRED = ("id", "title", "link", "image_link")
GOOGLE_NS = "http://base.google.com/ns/1.0"
# Every SkippedRow.reason starts with one of these kinds (see catalog.feed._to_product).
REASON_KINDS = ("missing ", "duplicate id: ", "invalid link: ", "invalid image_link: ", "image not found: ",
                "malformed row: ")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what csv and expat count as one line end


@pytest.fixture(scope="module")
def feed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-feeds")


def _read(folder: Path, name: str, data: bytes, *, budget_s: float = 2.0) -> FeedReport | FeedError:
    """read_feed on ``data``: the report, or the FeedError; any other exception fails the test."""
    path = folder / name
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        outcome: FeedReport | FeedError = read_feed(path)
    except FeedError as error:
        outcome = error
    elapsed = time.perf_counter() - start
    assert elapsed < budget_s, f"read_feed took {elapsed:.2f} s on {len(data)} bytes"
    if isinstance(outcome, FeedError):
        message = str(outcome)
        assert message.startswith(f"{path}: ") and len(message) > len(f"{path}: ") + 5, message
        assert len(message) < 1000, f"a {len(message)}-character error message: {message[:300]}"
    else:
        _assert_reasons(outcome)
    return outcome


def _assert_reasons(report: FeedReport) -> None:
    for row in report.skipped:
        assert row.line >= 1, row
        assert row.reason.startswith(REASON_KINDS), row


# --- random bytes ---------------------------------------------------------------------------------

_PREFIXES = st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"<", b"\xef\xbb\xbf<rss>",
                             b"id,title,link,image_link\n", b"id\ttitle\tlink\timage_link\r\n", b"\n\n  "])
_NASTY = st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\r", b'"', b"<", b"&", b"]]>", b"\t"])
_NOISE = st.lists(st.one_of(st.binary(max_size=40), _NASTY), max_size=30).map(b"".join)


@settings(FUZZ, max_examples=200)
@given(prefix=_PREFIXES, body=_NOISE, name=st.sampled_from(["feed.csv", "feed.tsv", "feed.xml", "feed"]))
def test_random_bytes_give_a_report_or_a_feed_error(feed_dir: Path, prefix: bytes, body: bytes, name: str) -> None:
    _read(feed_dir, name, prefix + body)


# --- huge lines -----------------------------------------------------------------------------------

HEADER = b"id,title,link,image_link\n"
ROW = b"p1,Shirt,https://s.example/p1,https://c.example/p1.jpg\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        pytest.param("cell.csv", HEADER + b"p1," + b"x" * 5_000_000 + b",https://s.example/p1,https://c.example/1.jpg\n",
                     id="5MB-cell"),
        pytest.param("quoted.csv", HEADER + b'p1,"' + b"a,\n\"\"" * 1_250_000 + b'",https://s.example/p1,x\n',
                     id="5MB-quoted-multiline-cell"),
        pytest.param("open-quote.csv", HEADER + b'p1,"' + b"y" * 5_000_000, id="5MB-unclosed-quote"),
        pytest.param("header.csv", b"id,title,link,image_link," + b"junk," * 400_000 + b"\n" + ROW,
                     id="2MB-header-many-columns"),
        pytest.param("header-cell.csv", b"id,title,link,image_link," + b"h" * 2_000_000 + b"\n" + ROW,
                     id="2MB-header-cell"),
        pytest.param("header.tsv", b"\t".join([b"id", b"title", b"link", b"image_link"] + [b"zzzz"] * 400_000)
                     + b"\n" + ROW.replace(b",", b"\t"), id="2MB-tsv-header"),
        pytest.param("one-line.csv", b"a;b|c\t" * 350_000, id="2MB-single-line-no-newline"),
        pytest.param("cell.xml", b'<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>p1</g:id>'
                     b"<title>" + b"t" * 5_000_000 + b"</title><link>https://s.example/p1</link>"
                     b"<g:image_link>https://c.example/p1.jpg</g:image_link></item></channel></rss>",
                     id="5MB-xml-text"),
        pytest.param("deep.xml", b"<rss><channel>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</channel></rss>",
                     id="200k-deep-xml"),
    ],
)
def test_huge_lines_finish_quickly(feed_dir: Path, name: str, data: bytes) -> None:
    outcome = _read(feed_dir, name, data, budget_s=3.0)
    if isinstance(outcome, FeedReport):
        assert len(outcome.products) + len(outcome.skipped) <= 1


# --- random CSV / TSV shapes ----------------------------------------------------------------------

def _included(name: str) -> st.SearchStrategy[bool]:
    # A required column is left out one time in twenty: the header error shows, most examples have rows.
    return st.sampled_from([True] * 19 + [False]) if name in REQUIRED else st.booleans()


def _spellings(name: str) -> st.SearchStrategy[str]:
    """How exporters write a Merchant column name: all of them normalise to ``name``."""
    return st.sampled_from([name, name.upper(), f"g:{name}", name.replace("_", " ").title(), name.replace("_", "-")])


# Junk column names hold no delimiter, quote, '<' or line end, so they cannot mislead delimiter sniffing,
# and start with "junk" so none of them normalises to a Merchant attribute.
_JUNK_NAME = st.text(st.characters(blacklist_characters=",\t;|\"'<\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
                                   blacklist_categories=("Cs",)), max_size=10).map("junk".__add__)
_CELL = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.lists(st.sampled_from(['"', ",", "\t", "\n", "\r\n", "\r", " ", "é", "👟", "\x00", "https://s.example/a",
                              "images/a.jpg", "file:///etc/passwd", "http://[::1", ""]), max_size=6).map("".join),
    st.sampled_from(["", " ", "https://s.example/p", "https://c.example/p.jpg", "p1", "p2"]),
)


# Column-aware values: a good one about half the time, so rows get as far as the checks after "missing".
_URLS = st.one_of(st.just("https://s.example/p"), st.sampled_from([
    "HTTPS://S.example/p?q=1,2", "https://s.example/a b", "http://[::1", "javascript:alert(1)", "https:///p",
    "//s.example/p", ""]))
_IMAGES = st.one_of(st.just("https://c.example/p.jpg"), st.sampled_from([
    "images/p.jpg", "file:///etc/hostname", "file://[::1/p.jpg", "file:///no/such.jpg", "C:\\shop\\p.jpg", "x\x00y.jpg",
    "a" * 300, "../" * 60 + "p.jpg", "data:image/png;base64,AAAA", "https://c.example/a.jpg, https://c.example/b.jpg",
    ""]))
_IDS = st.one_of(st.sampled_from([f"p{i}" for i in range(8)]), st.sampled_from([" p1 ", "p\x00", "", "👟"]))
_TITLES = st.sampled_from(["Shirt", " Été 👟 ", "a, b", 'say "hi"', "two\nlines", "tab\there", "<b>&amp;</b>"])


def _value(name: str, text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A value that suits column ``name`` (ids, links, image paths from hostile pools), else free ``text``."""
    pools = {"id": _IDS, "title": st.one_of(_TITLES, text), "link": _URLS, "image_link": _IMAGES,
             "additional_image_link": _IMAGES}
    return pools.get(name, text)


def _plausible_row(names: list[str], merchant_of: dict[str, str]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*(_value(merchant_of.get(name, ""), _CELL) for name in names)).map(list)


@st.composite
def delimited_feeds(draw: st.DrawFn) -> tuple[str, set[str], list[int]]:
    """(file text, the Merchant columns its header names, the line each data row that is not blank starts on)."""
    merchant = [name for name in MERCHANT if draw(_included(name))]
    spelled = {draw(_spellings(name)): name for name in merchant}
    names = draw(st.permutations([*spelled, *draw(st.lists(_JUNK_NAME, max_size=4))])) or ["junk"]
    any_row = st.one_of(st.lists(_CELL, max_size=len(names) + 2), _plausible_row(names, spelled))
    rows = draw(st.lists(any_row, max_size=12))
    delimiter = draw(st.sampled_from([",", "\t"]))
    # With "\n" line ends csv.writer leaves a lone "\r" unquoted (a file no reader could split right).
    lineterminator, quoting = draw(st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL)]))
    out = io.StringIO(newline="")
    out.write(lineterminator * draw(st.integers(0, 2)))  # blank lines before the header are ignored
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(names)
    lines = []
    for row in rows:
        if any(cell.strip() for cell in row):  # all-blank rows are documented as ignored residue
            lines.append(1 + len(_NEWLINE.findall(out.getvalue())))
        writer.writerow(row)
    return out.getvalue(), set(merchant), lines


@settings(FUZZ, max_examples=150)
@given(feed=delimited_feeds(), bom=st.booleans(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_every_csv_row_is_a_product_or_a_reason(feed_dir: Path, feed: tuple[str, set[str], list[int]],
                                                bom: bool, suffix: str) -> None:
    text, columns, lines = feed
    outcome = _read(feed_dir, f"feed{suffix}", (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
    if not columns.issuperset(REQUIRED):
        assert isinstance(outcome, FeedError) and "header lacks required column(s)" in str(outcome), outcome
        return
    assert isinstance(outcome, FeedReport), outcome
    assert len(outcome.products) + len(outcome.skipped) == len(lines)
    skipped_lines = [row.line for row in outcome.skipped]
    assert len(set(skipped_lines)) == len(skipped_lines) and set(skipped_lines) <= set(lines)


@pytest.mark.parametrize("column", ["image_link", "additional_image_link"])
@pytest.mark.parametrize(("value", "reason"), [
    ("x\x00y.jpg", "invalid image_link: 'x\\x00y.jpg' is not a usable file path"),
    ("a" * 300, "invalid image_link: 'aaaa"),  # longer than any file name may be (ENAMETOOLONG)
    ("file://[::1/p.jpg", "invalid image_link: 'file://[::1/p.jpg' is not a file URL"),
])
def test_unusable_image_paths_are_a_reason_not_a_crash(feed_dir: Path, column: str, value: str, reason: str) -> None:
    text = "id\ttitle\tlink\timage_link\tadditional_image_link\np1\tT\thttps://s.example/p1\t{image_link}\t{extra}\n"
    if column == "image_link":
        report = read_feed(_write(feed_dir, "paths.tsv", text.format(image_link=value, extra="")))
        assert report.products == [] and report.skipped[0].reason.startswith(reason)
    else:
        text = text.format(image_link="https://c.example/p.jpg", extra=value)
        report = read_feed(_write(feed_dir, "paths.tsv", text))
        assert [p.additional_image_links for p in report.products] == [()]  # the picture is dropped, not the product


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# --- random RSS shapes ----------------------------------------------------------------------------

_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff",
                                  whitelist_characters="\t\n\r"), max_size=20)
_XML_TEXT = st.one_of(_XML_TEXT, st.sampled_from(["]]>", "&", "<", "\r\n"]))


@st.composite
def rss_feeds(draw: st.DrawFn) -> tuple[str, list[int]]:
    """(an RSS 2.0 document, the line each <item> starts on)."""
    google = draw(st.booleans())  # declare xmlns:g and use it, or plain RSS element names only
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n' if draw(st.booleans()) else "",
             f'<rss version="2.0"{" xmlns:g=" + quoteattr(GOOGLE_NS) if google else ""}>\n<channel>\n',
             "<title>Shop</title><link>https://s.example</link>\n"]
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        lines.append(1 + len(_NEWLINE.findall("".join(parts))))
        parts.append("<item>")
        names = [name for name in MERCHANT if draw(_included(name))]
        names += draw(st.lists(st.sampled_from(MERCHANT), max_size=2))  # a repeated field: the first wins
        for name in draw(st.permutations(names)):
            tag = f"g:{name}" if google and draw(st.booleans()) else name
            value = draw(_value(name, _XML_TEXT).map(lambda v: v.replace("\x00", "")))  # NUL: never in XML
            parts.append(draw(st.sampled_from(["\n  ", "", " "])) + _element(tag, value, draw(st.integers(0, 3))))
        if draw(st.booleans()):
            parts.append('<junk a="1"><inner>x</inner>tail</junk><!-- a comment --><?pi data?>')
        parts.append("</item>" + draw(st.sampled_from(["\n", "\r\n", ""])))
    parts.append("</channel>\n</rss>\n")
    return "".join(parts), lines


def _element(tag: str, value: str, form: int) -> str:
    if form == 0:
        return f"<{tag}>{escape(value)}</{tag}>"
    if form == 1:  # CDATA, its end marker split the way exporters do
        return f"<{tag}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{tag}>"
    if form == 2:
        return f"<{tag}/>"
    return f"<{tag}>{''.join(f'&#{ord(char)};' for char in value)}<!-- note --></{tag}>"  # character references


@settings(FUZZ, max_examples=100)
@given(feed=rss_feeds(), bom=st.booleans())
def test_every_rss_item_is_a_product_or_a_reason(feed_dir: Path, feed: tuple[str, list[int]], bom: bool) -> None:
    text, lines = feed
    outcome = _read(feed_dir, "feed.xml", (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
    assert isinstance(outcome, FeedReport), outcome
    assert len(outcome.products) + len(outcome.skipped) == len(lines)
    assert {row.line for row in outcome.skipped} <= set(lines)


# --- XML entities ---------------------------------------------------------------------------------

_ITEM = ('<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>{ref}</g:id><title>T</title>'
         "<link>https://s.example/p</link><g:image_link>https://c.example/p.jpg</g:image_link></item></channel></rss>")
_LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))


@pytest.mark.parametrize(("doctype", "ref"), [
    pytest.param(f'<!DOCTYPE rss [<!ENTITY l0 "lol">{_LAUGHS}]>', "&l9;", id="billion-laughs"),
    pytest.param('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;", id="external-entity"),
    pytest.param('<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', "p", id="parameter-entity"),
    pytest.param('<!DOCTYPE rss [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;", id="network-entity"),
    pytest.param('<!DOCTYPE rss [<!ENTITY u SYSTEM "x.bin" NDATA gif>]>', "u", id="unparsed-entity"),
    pytest.param('<!DOCTYPE rss SYSTEM "file:///etc/passwd">', "&x;", id="external-dtd"),
])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_xml_entities_neither_expand_nor_hang(feed_dir: Path, doctype: str, ref: str, encoding: str) -> None:
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}\n{_ITEM.format(ref=ref)}'
    outcome = _read(feed_dir, "evil.xml", text.encode(encoding), budget_s=1.0)
    if isinstance(outcome, FeedError):
        assert "entity" in str(outcome).lower(), outcome
    else:  # left unexpanded: nothing of the entity's text reaches a product
        values = [str(v) for p in outcome.products for v in p.to_dict().values()]
        assert not any("lol" in v or "root:" in v for v in values), values
