"""The `fashionbot` CLI end to end on the bundled demo catalog, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PHOTOS = sorted((REPO / "demo" / "photos").glob("*.jpg"))

pytestmark = pytest.mark.slow


def fashionbot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FASHIONBOT_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "fashionbot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cli")
    result = fashionbot("index", "build", "--catalog", str(REPO / "demo" / "catalog.csv"),
                        "--out", str(work / "idx"), "--backbone", "tf_efficientnet_lite0", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "indexed 808 products" in result.stdout
    return work / "idx"


def test_index_info_shows_the_manifest(demo_index):
    result = fashionbot("index", "info", str(demo_index), cwd=demo_index.parent)
    assert result.returncode == 0
    assert "count          808" in result.stdout and "tf_efficientnet_lite0" in result.stdout


def test_recommend_json_finds_the_photographed_products(demo_index):
    bad = demo_index.parent / "notes.jpg"
    bad.write_text("not a photo")
    queries = [*map(str, PHOTOS), str(bad)]
    result = fashionbot("recommend", "--index", str(demo_index), "--k", "5", "--json", *queries,
                        cwd=demo_index.parent)
    assert result.returncode == 1  # one image was bad; the others still ran
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == queries
    assert "not an image" in lines[-1]["error"]
    found = 0
    for path, line in zip(PHOTOS, lines, strict=False):
        results = line["results"]
        assert len(results) == 5 and results[0]["score"] >= results[-1]["score"]
        assert {"id", "score", "title", "link", "image_link"} <= results[0].keys()
        assert results[0]["link"].startswith("https://www.myntra.com/")
        found += path.stem.rsplit("-", 1)[-1] in [r["id"] for r in results]
    assert found >= len(PHOTOS) - 2  # user-like photos of catalog items find those items


def test_recommend_table_and_a_wrong_engine(demo_index):
    table = fashionbot("recommend", "--index", str(demo_index), "--k", "2", str(PHOTOS[0]), cwd=demo_index.parent)
    assert table.returncode == 0 and " 1. " in table.stdout and "myntra.com" in table.stdout
    other = fashionbot("recommend", "--index", str(demo_index), "--backbone", "resnet18", str(PHOTOS[0]),
                       cwd=demo_index.parent)
    assert other.returncode != 0
    assert "resnet18" in other.stderr or "FASHIONBOT_WEIGHTS" in other.stderr


def test_build_errors_are_clear(tmp_path):
    missing = fashionbot("index", "build", "--catalog", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "i"),
                         cwd=tmp_path)
    assert missing.returncode == 1 and "nope.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
