"""read_feed / write_feed_csv on CSV, TSV and RSS/Atom XML: good rows, bad rows by line, whole-file errors."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog import FeedError, FeedReport, Product, SkippedRow, read_feed, write_feed_csv
from catalog.feed import OPTIONAL
from catalog.feed_formats import REQUIRED

WriteFeed = Callable[[str, "str | bytes"], Path]

MESSY_CSV = "\r\n".join(
    [
        "g:ID,Title,Link,Image Link,price,g:brand,additional_image_link,material",  # 1
        "a1,Blue shirt,https://shop.example/a1,images/a1.jpg,19.99 USD,Acme,"
        '"images/a1b.jpg, https://cdn.example/a1c.jpg",cotton',  # 2
        'a2,"Red',  # 3
        'dress",https://shop.example/a2,https://cdn.example/a2.jpg,,,,',  # 4
        "",  # 5
        "a3,No image,https://shop.example/a3,,,,,",  # 6
        "a1,Dup,https://shop.example/a1b,https://cdn.example/x.jpg,,,,",  # 7
        "a4,Bad link,ftp://shop.example/a4,https://cdn.example/a4.jpg,,,,",  # 8
        "a5,Lost,https://shop.example/a5,images/nope.jpg,,,,",  # 9
        ",No id,https://shop.example/x,https://cdn.example/x.jpg,,,,",  # 10
        "a6,Shifted,https://shop.example/a6,https://cdn.example/a6.jpg,1,2,3,4,5",  # 11
        "a7,Spaced,https://shop.example/a 7,https://cdn.example/a7.jpg,,,,",  # 12
        ",,,,,,,",  # 13
        "a8,Trailing comma,https://shop.example/a8,https://cdn.example/a8.jpg,,,,,",  # 14
        "",
    ]
)


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a1.jpg", "a1b.jpg", "x1.jpg"):
        (folder / name).write_bytes(b"\xff\xd8\xff")
    return folder


def test_csv_good_rows_keep_every_attribute(write_feed: WriteFeed, images: Path) -> None:
    report = read_feed(write_feed("feed.csv", MESSY_CSV))
    a1, a2, a7, a8 = report.products
    assert a8.title == "Trailing comma"
    assert a7.link == "https://shop.example/a%207"  # percent-encoded, as Merchant Center does, not refused
    assert a1 == Product(
        id="a1",
        title="Blue shirt",
        link="https://shop.example/a1",
        image_link=str(images / "a1.jpg"),
        price="19.99 USD",
        brand="Acme",
        additional_image_links=(str(images / "a1b.jpg"), "https://cdn.example/a1c.jpg"),
        extra={"material": "cotton"},
    )
    assert (a2.id, a2.title, a2.image_link) == ("a2", "Red\ndress", "https://cdn.example/a2.jpg")
    assert a2.price is None and a2.extra == {}


def test_every_merchant_column_lands_in_its_product_field(write_feed: WriteFeed) -> None:
    # The reader maps columns to fields by name, one by one: a column added to the feed must reach the Product.
    columns = (*REQUIRED, *OPTIONAL)
    values = {name: f"{name} value" for name in columns}
    values |= {"link": "https://shop.example/p", "image_link": "https://cdn.example/p.jpg", "price": "5 EUR"}
    report = read_feed(write_feed("feed.csv", ",".join(columns) + "\n" + ",".join(values.values()) + "\n"))
    (product,) = report.products
    assert {name: getattr(product, name) for name in columns} == values
    assert product.extra == {}


def test_csv_bad_rows_are_skipped_with_physical_line_numbers(write_feed: WriteFeed, images: Path) -> None:
    report = read_feed(write_feed("feed.csv", MESSY_CSV))
    assert report.skipped == [
        SkippedRow(6, "a3", "missing image_link"),
        SkippedRow(7, "a1", "duplicate id: first on line 2"),
        SkippedRow(8, "a4", "invalid link: 'ftp://shop.example/a4' is not an http(s) URL"),
        SkippedRow(9, "a5", f"image not found: {images / 'nope.jpg'}"),
        SkippedRow(10, None, "missing id"),
        SkippedRow(11, "a6", "malformed row: 9 fields, header has 8"),
    ]
    assert report.summary() == (
        "4 products, 6 skipped: 1 duplicate id, 1 image not found, 1 invalid link, 1 malformed row, "
        "1 missing id, 1 missing image_link"
    )


def test_source_hash_is_sha256_of_the_file(write_feed: WriteFeed, images: Path) -> None:
    path = write_feed("feed.csv", MESSY_CSV)
    assert read_feed(path).source_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_summary_reads_like_a_sentence() -> None:
    skipped = [
        SkippedRow(2, "a", "missing image_link"),
        SkippedRow(3, None, "missing image_link"),
        SkippedRow(4, "a", "duplicate id: first on line 1"),
    ]
    report = FeedReport(
        [Product(id=str(i), title="t", link="l", image_link="i") for i in range(812)], skipped, ""
    )
    assert report.summary() == "812 products, 3 skipped: 2 missing image_link, 1 duplicate id"
    assert FeedReport(report.products[:1], [], "").summary() == "1 product, none skipped"


def test_tsv_with_commas_in_values(write_feed: WriteFeed) -> None:
    report = read_feed(
        write_feed(
            "feed.tsv",
            (
                "id\ttitle\tlink\timage_link\tcolor\n"
                "t1\tShirt, blue; slim | fit\thttps://s.example/t1\thttps://c.example/t1.jpg\tblue\n"
                "t2\tNo link\t\thttps://c.example/t2.jpg\tred\n"
            ),
        )
    )
    assert [(p.id, p.title, p.color) for p in report.products] == [("t1", "Shirt, blue; slim | fit", "blue")]
    assert report.skipped == [SkippedRow(3, "t2", "missing link")]


def test_semicolon_csv_with_bom(write_feed: WriteFeed) -> None:
    report = read_feed(
        write_feed(
            "feed.csv",
            (
                "\ufeffID;Title;Link;Image_Link;Price\n"
                "s1;Jacket;https://s.example/s1;https://c.example/s1.jpg;49,90 EUR\n"
            ),
        )
    )
    assert [(p.id, p.price) for p in report.products] == [("s1", "49,90 EUR")]
    assert report.skipped == []


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt", ""])
def test_delimiter_comes_from_content_not_extension(
    write_feed: WriteFeed, delimiter: str, suffix: str
) -> None:
    rows = [
        ["id", "title", "link", "image_link"],
        ["d1", "Coat", "https://s.example/d1", "https://c.example/d1.jpg"],
    ]
    report = read_feed(write_feed(f"feed{suffix}", "".join(delimiter.join(r) + "\n" for r in rows)))
    assert [(p.id, p.title) for p in report.products] == [("d1", "Coat")]


def test_utf16_spreadsheet_export(write_feed: WriteFeed) -> None:
    text = "id\ttitle\tlink\timage_link\r\nu1\tÉté\thttps://s.example/u1\thttps://c.example/u1.jpg\r\n"
    report = read_feed(write_feed("feed.txt", text.encode("utf-16")))
    assert [(p.id, p.title) for p in report.products] == [("u1", "Été")]


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
<channel>
<title>Shop</title>
<link>https://shop.example</link>
<item>
  <g:id>x1</g:id>
  <title><![CDATA[Linen & cotton shirt]]></title>
  <link>https://shop.example/x1</link>
  <g:image_link>images/x1.jpg</g:image_link>
  <g:additional_image_link>https://cdn.example/x1b.jpg</g:additional_image_link>
  <g:additional_image_link>https://cdn.example/x1c.jpg</g:additional_image_link>
  <g:price>10.00 USD</g:price>
  <g:shipping><g:country>US</g:country><g:price>4.95 USD</g:price></g:shipping>
  <g:material>linen</g:material>
</item>
<item>
  <g:id>x2</g:id>
  <g:title>No image</g:title>
  <g:link>https://shop.example/x2</g:link>
</item>
<item><g:id>x1</g:id><title>A</title><link>https://shop.example/x1</link><g:image_link>https://c.example/a.jpg</g:image_link></item>
<item>
  <g:id>x3</g:id><title>Plain title</title><g:title>Google title</g:title>
  <link>https://shop.example/x3</link><g:image_link>https://c.example/x3.jpg</g:image_link>
</item>
</channel>
</rss>
"""


def test_rss_items_with_line_numbers(write_feed: WriteFeed, images: Path) -> None:
    report = read_feed(write_feed("feed.xml", RSS))
    x1, x3 = report.products
    assert x1 == Product(
        id="x1",
        title="Linen & cotton shirt",
        link="https://shop.example/x1",
        image_link=str(images / "x1.jpg"),
        price="10.00 USD",
        additional_image_links=("https://cdn.example/x1b.jpg", "https://cdn.example/x1c.jpg"),
        extra={"shipping": "US:4.95 USD", "material": "linen"},
    )
    assert x3.title == "Google title"  # g: wins over the plain RSS element
    assert report.skipped == [
        SkippedRow(17, "x2", "missing image_link"),
        SkippedRow(22, "x1", "duplicate id: first on line 6"),
    ]


def test_xml_is_detected_from_content_whatever_the_extension(write_feed: WriteFeed, images: Path) -> None:
    report = read_feed(write_feed("feed.csv", "\ufeff\n\n  " + RSS))
    assert [p.id for p in report.products] == ["x1", "x3"]


def test_atom_entries(write_feed: WriteFeed) -> None:
    report = read_feed(
        write_feed(
            "feed.atom",
            """<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
<title>Shop</title>
<entry>
<id>tag:shop.example,2024:1</id>
<g:id>e1</g:id>
<title>Atom shirt</title>
<link rel="self" href="https://shop.example/feed/e1"/>
<link href="https://shop.example/e1"/>
<g:image_link>https://cdn.example/e1.jpg</g:image_link>
</entry>
</feed>
""",
        )
    )
    assert [(p.id, p.title, p.link) for p in report.products] == [
        ("e1", "Atom shirt", "https://shop.example/e1")
    ]


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_xml_entities_are_refused(write_feed: WriteFeed, doctype: str) -> None:
    path = write_feed(
        "evil.xml",
        f'<?xml version="1.0"?>\n{doctype}\n'
        '<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item>'
        "<g:id>&xxe;</g:id></item></channel></rss>",
    )
    with pytest.raises(FeedError, match=r"evil\.xml: line 2: XML entity declarations are not allowed"):
        read_feed(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "feed is empty"),
        ("  \n\n", "feed is empty"),
        (
            "id,title,link\n1,a,https://s.example/1\n",
            r"header lacks required column\(s\) image_link \(found: id, title, link\)",
        ),
        (
            "<rss><channel><item></channel></rss>",
            r"not well-formed XML \(mismatched tag at line 1, column \d+\)",
        ),
        ("<html><body>hello</body></html>", "XML root is <html>, expected RSS 2.0"),
        ("id,title,link,image_link\n1,caf\xe9".encode("latin-1"), "not UTF-8 text"),
        (b"PK\x03\x04rest-of-an-xlsx", "is a ZIP/XLSX archive; export the sheet as CSV, TSV or XML"),
    ],
)
def test_whole_file_problems_raise_feed_error(
    write_feed: WriteFeed, content: str | bytes, message: str
) -> None:
    with pytest.raises(FeedError, match=r"bad-feed\.csv: " + message):
        read_feed(write_feed("bad-feed.csv", content))


def test_missing_file_raises_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"nowhere\.csv: cannot read feed"):
        read_feed(tmp_path / "nowhere.csv")


@pytest.mark.parametrize(
    ("image_link", "expected"),
    [
        ("HTTPS://cdn.example/a.jpg", "https://cdn.example/a.jpg"),
        ("{images}/a1.jpg", "{images}/a1.jpg"),
        ("file://{images}/a1.jpg", "{images}/a1.jpg"),
        ("./images/../images/a1.jpg", "{images}/a1.jpg"),
        (
            "data:image/png;base64,AAAA",
            "invalid image_link: 'data:image/png;base64,AAAA' is not an http(s) URL",
        ),
        ("https:///a.jpg", "invalid image_link: 'https:///a.jpg' is not an http(s) URL"),
        ("C:\\shop\\a.jpg", "image not found: {tmp}/C:\\shop\\a.jpg"),
    ],
)
def test_image_link_forms(write_feed: WriteFeed, images: Path, image_link: str, expected: str) -> None:
    fill = {"images": images, "tmp": images.parent}
    path = write_feed(
        "feed.tsv", f"id\ttitle\tlink\timage_link\n1\tT\thttps://s.example/1\t{image_link.format(**fill)}\n"
    )
    report = read_feed(path)
    outcome = report.products[0].image_link if report.products else report.skipped[0].reason
    assert outcome == expected.format(**fill)


def test_bad_additional_image_is_dropped_not_the_product(
    write_feed: WriteFeed, images: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="catalog.feed"):
        report = read_feed(
            write_feed(
                "feed.csv",
                (
                    "id,title,link,image_link,additional_image_link\n"
                    '1,T,https://s.example/1,images/a1.jpg,"images/gone.jpg,images/a1b.jpg"\n'
                ),
            )
        )
    assert report.products[0].additional_image_links == (str(images / "a1b.jpg"),)
    assert "additional_image_link dropped (image not found" in caplog.text


@pytest.mark.parametrize("name", ["out.csv", "out.tsv"])
def test_write_feed_csv_round_trips(write_feed: WriteFeed, images: Path, tmp_path: Path, name: str) -> None:
    original = read_feed(write_feed("feed.csv", MESSY_CSV)).products
    elsewhere = Product(
        id="z",
        title="Z",
        link="https://s.example/z",
        image_link=str(Path(__file__).resolve()),
        extra={"size": "M", "material": "wool"},
    )
    out = tmp_path / name
    assert write_feed_csv([*original, elsewhere], out) == 5
    text = out.read_text(encoding="utf-8")
    assert "images/a1.jpg" in text and str(images) not in text  # relative under the feed's folder
    assert str(Path(__file__).resolve()) in text  # absolute outside it
    header = text.splitlines()[0].split("\t" if name.endswith(".tsv") else ",")
    assert header[:4] == ["id", "title", "link", "image_link"] and header[-2:] == ["material", "size"]
    report = read_feed(out)
    assert report.products == [*original, elsewhere] and report.skipped == []
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
