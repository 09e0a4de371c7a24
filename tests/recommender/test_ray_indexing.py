"""The build on Ray Data (a local Ray on this machine) makes the index the single-process build makes."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

from catalog import write_feed_csv
from index.store import PRODUCTS, VECTORS, Manifest, resolve_build
from recommender.indexing import build_index

from ..conftest import diverse

REPO = Path(__file__).resolve().parent.parent.parent


def labels_of(root: Path) -> dict[tuple[str, int], dict]:
    """(product id, view) → the labels its row was written with: {attribute: (value, source, confidence)}."""
    connection = sqlite3.connect(resolve_build(root) / PRODUCTS)
    try:
        rows = connection.execute("SELECT product_id, view, record FROM products").fetchall()
    finally:
        connection.close()
    return {(product_id, view): {name: (label["value"], label["source"], label["confidence"])
                                 for name, label in json.loads(record)["labels"].items()}
            for product_id, view, record in rows}


def rows_of(root: Path) -> dict[tuple[str, int], np.ndarray]:
    """(product id, view) → its vector, read straight from a published build."""
    build = resolve_build(root)
    vectors = faiss.read_index(str(build / VECTORS))
    connection = sqlite3.connect(build / PRODUCTS)
    try:
        rows = connection.execute("SELECT faiss_id, product_id, view FROM products").fetchall()
    finally:
        connection.close()
    assert vectors.ntotal == len(rows)
    return {(product_id, view): vectors.reconstruct(faiss_id) for faiss_id, product_id, view in rows}


@pytest.fixture()
def tiny_feed(tmp_path, demo_products, test_data) -> Path:
    """Ten demo products (one with a second image), a damaged image and a missing file (a feed skip)."""
    feed = tmp_path / "feed.csv"
    write_feed_csv(diverse(demo_products, 10), feed)
    rows = list(csv.reader(feed.open()))
    header = rows[0]
    if "additional_image_link" not in header:
        header.append("additional_image_link")
        rows[1:] = [row + [""] for row in rows[1:]]
    rows[1][header.index("additional_image_link")] = rows[2][header.index("image_link")]
    # The product with two images says nothing of its kind, colour, gender or usage: its packshots label it.
    for column in ("title", "product_type", "google_product_category", "color", "gender", "age_group", "usage",
                   "article_type"):
        if column in header:
            rows[1][header.index(column)] = "Item" if column == "title" else ""
    shutil.copy(test_data / "truncated.jpg", tmp_path / "broken.jpg")
    for product_id, image in (("bad-1", tmp_path / "broken.jpg"), ("bad-2", tmp_path / "missing.jpg")):
        row = [""] * len(header)
        row[:4] = [product_id, "Bad photo", f"https://shop.example/{product_id}", str(image)]
        rows.append(row)
    with feed.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return feed


@pytest.mark.slow
def test_the_ray_build_equals_the_single_process_build(tmp_path_factory, tmp_path, tiny_feed, head_engine):
    pytest.importorskip("ray")
    import ray

    from recommender.ray_indexing import build_index_ray

    engine = head_engine  # with the head: the packshots' labels come back from the workers too
    here = build_index(tiny_feed, tmp_path / "here", engine)
    updates = []
    try:
        on_ray = build_index_ray(tiny_feed, tmp_path / "ray", engine, address="local", num_cpus=2, actors=1,
                                 temp_dir=tmp_path_factory.mktemp("r"), progress=updates.append)
    finally:
        ray.shutdown()

    assert on_ray.indexed == here.indexed == 10 and on_ray.vectors == here.vectors == 11
    assert sorted(on_ray.skipped) == sorted(here.skipped)
    reasons = dict(on_ray.skipped)
    assert len(reasons) == 2 and "damaged" in reasons["bad-1"]  # the image stage's; the missing file the feed's
    expected, got = rows_of(tmp_path / "here"), rows_of(tmp_path / "ray")
    assert sorted(got) == sorted(expected)
    for key, vector in expected.items():
        np.testing.assert_allclose(got[key], vector, atol=1e-5, err_msg=str(key))
    mine, theirs = Manifest.read(resolve_build(tmp_path / "ray")), Manifest.read(resolve_build(tmp_path / "here"))
    assert (mine.fingerprint, mine.source_hash, mine.count, mine.dim, mine.skipped) == \
        (theirs.fingerprint, theirs.source_hash, theirs.count, theirs.dim, theirs.skipped)
    assert updates[-1].done == updates[-1].total == 12
    labelled_here, labelled_on_ray = labels_of(tmp_path / "here"), labels_of(tmp_path / "ray")
    assert any(source == "image" for labels in labelled_here.values() for _, source, _ in labels.values())
    for key, labels in labelled_here.items():
        assert {name: label[:2] for name, label in labelled_on_ray[key].items()} == \
            {name: label[:2] for name, label in labels.items()}, key
        for name, (_, _, confidence) in labels.items():
            assert labelled_on_ray[key][name][2] == pytest.approx(confidence, abs=0.002)
    assert mine.labels == theirs.labels


def test_ray_without_the_extra_names_the_install(tmp_path):
    """--ray where ray is not installed: a one-line error saying what to install, before any model loads."""
    code = ("import sys; sys.modules['ray'] = None\n"
            "from fashionbot.cli import app\n"
            "app(['index', 'build', '--catalog', 'demo/catalog.csv', '--out', sys.argv[1], '--ray', 'local'])\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "idx")], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "pip install -e '.[ray]'" in done.stderr
    assert not (tmp_path / "idx").exists()


def test_importing_recommender_imports_no_ray():
    code = "import sys, recommender, recommender.indexing; assert 'ray' not in sys.modules, 'ray imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
