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
    assert "  category " in result.stdout and "contradicted" in result.stdout
    as_json = json.loads(fashionbot("index", "info", "--json", str(demo_index), cwd=demo_index.parent).stdout)
    coverage = as_json["labels"]["coverage"]
    assert as_json["manifest"]["count"] == 808 and as_json["manifest"]["labels"]["coverage"] == coverage
    assert all(sum(counts.values()) == 808 for counts in coverage.values())
    assert coverage["gender"]["none"] == 0 and coverage["gender"]["feed"] > 800  # the demo names genders


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
        scores = [r["score"] for r in results]
        assert len(results) == 5 and scores == sorted(scores, reverse=True)  # best first, by the score shown
        assert [r["rank"] for r in results] == [1, 2, 3, 4, 5]
        assert {"id", "score", "similarity", "title", "link", "image_link"} <= results[0].keys()
        assert all(-1 <= r["similarity"] <= 1 for r in results)
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


def test_recommend_regions_gives_each_garment_its_results_and_other_photos_the_whole(demo_index):
    from PIL import Image
    from skimage import data

    person = demo_index.parent / "astronaut.png"  # a person the project did not photograph, in a top
    Image.fromarray(data.astronaut()).save(person)
    dress, flat_lay = REPO / "demo" / "photos" / "dress-37936.jpg", REPO / "demo" / "photos" / "heels-17662.jpg"
    queries = [str(person), str(dress), str(flat_lay)]
    result = fashionbot("recommend", "--index", str(demo_index), "--k", "3", "--json", "--regions", *queries,
                        cwd=demo_index.parent)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == queries
    plain = json.loads(fashionbot("recommend", "--index", str(demo_index), "--k", "3", "--json", str(flat_lay),
                                  cwd=demo_index.parent).stdout)
    for line, (width, height) in zip(lines, [(512, 512), (360, 480), (480, 360)], strict=True):
        assert line.keys() == {"query", "regions"} and line["regions"]
        for region in line["regions"]:
            assert region["name"] in ("top", "bottom", "full", "shoes", "bag", "whole")
            x0, y0, x1, y1 = region["box"]
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            assert [r["rank"] for r in region["results"]] == [1, 2, 3]
            assert all(r.keys() == plain["results"][0].keys() for r in region["results"])  # fields as without
    [top] = lines[0]["regions"]  # the astronaut is cut at the waist: a top alone
    assert top["name"] == "top" and top["box"][3] == 512 and top["box"][1] > 100
    assert lines[1]["regions"][0]["name"] == "full"  # a dress is one piece
    assert lines[2]["regions"] == [{"name": "whole", "box": [0, 0, 480, 360], "results": plain["results"]}]


def test_build_errors_are_clear(tmp_path):
    missing = fashionbot("index", "build", "--catalog", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "i"),
                         cwd=tmp_path)
    assert missing.returncode == 1 and "nope.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
    feed = tmp_path / "feed.csv"
    feed.write_text("id,title,link,image_link\n1,Shoe,https://s.example/1,"
                    f"{REPO / 'demo' / 'images' / '1546.jpg'}\n")
    (tmp_path / "var").write_text("a file where the index's folder would go")
    unwritable = fashionbot("index", "build", "--catalog", str(feed), "--out", "var/index", cwd=tmp_path)
    assert unwritable.returncode == 1 and "var/index" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


CHECK_FEED = "\n".join([
    "id,title,link,image_link,price,color",
    "a,Shirt,https://s.example/a,https://c.example/a.jpg,10 USD,",
    "b,Dress,https://s.example/b b,https://c.example/b.jpg,12.50 EUR,",
    "c,No image,https://s.example/c,,1 USD,",
    "",
])


def test_catalog_check_json_contract(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text(CHECK_FEED, encoding="utf-8")
    result = fashionbot("catalog", "check", str(feed), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # one JSON object, nothing else on stdout
    assert {"products", "skipped", "columns", "warnings"} <= data.keys()
    assert data["products"] == 2
    assert data["skipped"] == [{"line": 4, "id": "c", "reason": "missing image_link"}]
    assert data["columns"]["price"] == {"filled": 2, "coverage": 1.0}
    assert data["currencies"] == {"USD": 1, "EUR": 1}
    kinds = {warning["kind"] for warning in data["warnings"]}
    assert {"currencies", "empty_column"} <= kinds


def test_catalog_check_text_and_exit_codes(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text(CHECK_FEED, encoding="utf-8")
    text = fashionbot("catalog", "check", str(feed), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "2 products would be indexed, 1 row skipped" in text.stdout
    assert "line 4 (c): missing image_link" in text.stdout and "coverage" in text.stdout

    unusable = tmp_path / "none.csv"
    unusable.write_text("id,title,link,image_link\na,T,https://s.example/a,\n", encoding="utf-8")
    empty = fashionbot("catalog", "check", str(unusable), "--json", cwd=tmp_path)
    assert empty.returncode == 1
    assert json.loads(empty.stdout)["products"] == 0

    missing = fashionbot("catalog", "check", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 1 and "nope.csv" in missing.stderr and "cannot read feed" in missing.stderr
    assert "Traceback" not in missing.stderr
    missing_json = fashionbot("catalog", "check", str(tmp_path / "nope.csv"), "--json", cwd=tmp_path)
    assert missing_json.returncode == 1 and "nope.csv" in json.loads(missing_json.stdout)["error"]


def test_catalog_check_on_a_real_feed(tmp_path):
    feed = REPO.parent / "shared" / "real-feeds" / "csv-furugi-vintage-bom-multiline.csv"
    if not feed.is_file():
        pytest.skip(f"{feed} is absent")
    result = fashionbot("catalog", "check", str(feed), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["products"] == 505 and data["skipped"] == [] and data["currencies"] == {"JPY": 505}


def test_feed_commands_do_not_import_torch():
    code = "import sys, fashionbot.feed_commands; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_feedback_report_reads_the_kept_ratings(tmp_path) -> None:
    import asyncio

    from typer.testing import CliRunner

    from chat.feedback import Rating, SqliteFeedback
    from chat.state import PageRecord
    from fashionbot.cli import app
    from index import Filters

    db = tmp_path / "feedback.sqlite"
    page = PageRecord(1, "photo1", ("a", "b"), ("Heels", "Flats"), Filters(color="red"), "similarity")
    asyncio.run(SqliteFeedback(db).add(Rating.of(5, page, liked=False, language="en")))
    result = CliRunner().invoke(app, ["feedback", "report", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 pages rated, 0% liked" in result.output and "photo1: 1 of 1 disliked (color=red)" in result.output
    as_json = json.loads(CliRunner().invoke(app, ["feedback", "report", "--db", str(db), "--json"]).output)
    assert as_json["categories"][0]["name"] == "Flats" and as_json["liked_share"] == 0.0
