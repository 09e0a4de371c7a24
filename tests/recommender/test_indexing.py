"""The build pipeline end to end on real images: skips bad ones with reasons, publishes a usable index."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from catalog import read_feed
from index import CatalogIndex
from recommender.indexing import build_index

pytestmark = pytest.mark.slow


def test_small_index_holds_every_product_and_finds_each_first(small_index, small_feed, engine):
    products = read_feed(small_feed).products
    index = CatalogIndex.open(small_index, engine.fingerprint)
    assert len(index) == len(products) == 40
    assert index.manifest.source_hash == read_feed(small_feed).source_hash
    assert index.manifest.engine["backbone"] == "tf_efficientnet_lite0"
    images = [engine.decode(Path(p.image_link).read_bytes()) for p in products[:8]]
    hits = index.search(engine.embed(images), k=3)
    assert [row[0].product.id for row in hits] == [p.id for p in products[:8]]


def test_bad_rows_and_images_are_skipped_with_reasons(tmp_path, small_feed, engine, test_data):
    feed = tmp_path / "feed.csv"
    shutil.copy(test_data / "truncated.jpg", tmp_path / "broken.jpg")
    shutil.copy(test_data / "not-an-image.txt", tmp_path / "text.jpg")
    rows = list(csv.reader(small_feed.open()))[:6]
    rows += [["bad-1", "Broken photo", "https://shop.example/b1", str(tmp_path / "broken.jpg")],
             ["bad-2", "Not a photo", "https://shop.example/b2", str(tmp_path / "text.jpg")],
             ["bad-3", "No link", "", str(tmp_path / "broken.jpg")]]
    with feed.open("w", newline="") as handle:
        csv.writer(handle).writerows(row + [""] * (len(rows[0]) - len(row)) for row in rows)
    updates = []
    report = build_index(feed, tmp_path / "idx", engine, progress=updates.append)
    assert report.indexed == 5
    reasons = dict(report.skipped)
    assert "damaged" in reasons["bad-1"] and "not an image" in reasons["bad-2"]
    assert any(ref.startswith("line 9") for ref in reasons)  # the row without a link
    assert "skipped 3" in report.summary()
    assert updates[-1].done == updates[-1].total == 7 and updates[-1].percent == 100.0


def test_a_feed_with_no_usable_image_keeps_the_old_index(tmp_path, small_index, engine, test_data):
    shutil.copytree(small_index, tmp_path / "idx", symlinks=True)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"id,title,link,image_link\nx,X,https://shop.example/x,{test_data / 'truncated.jpg'}\n")
    with pytest.raises(ValueError, match="none of the 1 products"):
        build_index(feed, tmp_path / "idx", engine)
    assert len(CatalogIndex.open(tmp_path / "idx")) == 40


def test_a_product_is_found_by_any_of_its_images_and_shown_once(tmp_path, small_feed, engine, test_data):
    from dataclasses import replace

    from catalog import write_feed_csv
    from recommender.indexing import product_views

    products = read_feed(small_feed).products[:10]
    # The first product also shows as the second's and the third's pictures; one extra image is broken.
    shutil.copy(test_data / "truncated.jpg", tmp_path / "broken.jpg")
    extras = (products[1].image_link, products[2].image_link, str(tmp_path / "broken.jpg"))
    first = replace(products[0], additional_image_links=extras)
    feed = tmp_path / "feed.csv"
    write_feed_csv([first, *products[3:]], feed)
    assert [view.number for view in product_views(first)] == [0, 1, 2, 3]
    assert product_views(first, max_views=2)[1].image.image_link == products[1].image_link

    report = build_index(feed, tmp_path / "idx", engine)
    index = CatalogIndex.open(tmp_path / "idx", engine.fingerprint)
    assert report.indexed == len(index) == 8 and report.vectors == index.vector_count == 10
    assert report.skipped == [] and "by 10 images" in report.summary()
    looks_like_second = engine.embed([engine.decode(Path(products[1].image_link).read_bytes())])
    hits = index.search(looks_like_second, k=8)[0]
    assert hits[0].product.id == first.id and hits[0].product.image_link == first.image_link
    assert sorted(hit.product.id for hit in hits) == sorted(p.id for p in [first, *products[3:]])
    assert [hit.rank for hit in hits] == list(range(8))
    pages = [index.search(looks_like_second, k=3, offset=offset)[0] for offset in (0, 3, 6)]
    assert [hit.product.id for page in pages for hit in page] == [hit.product.id for hit in hits]
    assert np.allclose(index.vector(first.id), engine.embed([engine.decode(Path(first.image_link).read_bytes())])[0],
                       atol=1e-5)
