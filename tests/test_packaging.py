"""A non-editable install works from any directory: the wheel carries the demo catalog, the shipped head, the
example photos, the chat page and the translations, and `fashionbot demo`, `fashionbot playground` and
`python -m bot` find them through the installed packages, never through this checkout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What a wheel is not built from: the build writes build/ and *.egg-info beside the sources, so it runs on a copy.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".ruff_cache", ".env", "tests")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    venv: Path
    site: Path  # the venv's site-packages, where the wheel went
    elsewhere: Path  # a working directory outside the checkout

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("TELEGRAM_", "FASHIONBOT_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return {**keep, "HF_HUB_OFFLINE": "1", "FASHIONBOT_DEVICE": "cpu"}

    def run(self, *command: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(part) for part in command], cwd=self.elsewhere, env=self.environment(),
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """A fresh venv with the wheel installed, borrowing .venv's dependencies: no network, no build isolation."""
    root = tmp_path_factory.mktemp("packaging")
    shutil.copytree(REPO, root / "source", ignore=NOT_SOURCES)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", root / "wheels", root / "source"],
                   check=True, timeout=300)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # A path line adds .venv's libraries without running .venv's own .pth files, so its editable finder (which
    # maps our packages to this checkout) stays out.
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    wheel = next((root / "wheels").glob("fashionbot-*.whl"))
    # --ignore-installed: .venv's editable fashionbot is visible through that path; pip must not stop at it.
    subprocess.run([python, "-m", *pip[2:], "install", "--no-deps", "--no-index", "--ignore-installed", wheel],
                   check=True, timeout=300)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Installed(venv, site, elsewhere)


def test_the_installed_packages_and_their_data_are_what_runs(installed: Installed) -> None:
    code = """
import json
import bot, demo, models, playground.web
from chat.i18n import languages
from catalog import read_feed
from engine.config import DEFAULT_ARTIFACT
from engine.heads import HeadArtifact
from engine.pose import PoseLocator, model_path
from recommender import RecommenderSettings
settings = RecommenderSettings()
products = read_feed(settings.catalog).products
print(json.dumps({
    "modules": [bot.__file__, demo.__file__, models.__file__],
    "catalog": str(settings.catalog), "products": len(products),
    "images": sum((settings.catalog.parent / p.image_link).is_file() for p in products),
    "examples": sorted(p.name for p in settings.examples.glob("*.jpg")),
    "head": str(DEFAULT_ARTIFACT), "head_backbone": HeadArtifact.load(DEFAULT_ARTIFACT).backbone,
    "page": (playground.web.STATIC / "index.html").is_file(), "languages": languages(),
    "pose": str(model_path("pose_detection.onnx")), "pose_loads": PoseLocator.load(threads=1) is not None,
}))
"""
    done = installed.run(installed.venv / "bin" / "python", "-c", code)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    for path in (*found["modules"], found["catalog"], found["head"], found["pose"]):
        assert Path(path).is_relative_to(installed.site), f"{path} is not from the installed wheel"
    assert found["products"] == found["images"] == 808
    assert "tshirt-1882.jpg" in found["examples"] and len(found["examples"]) == 8
    assert "lite0" in found["head_backbone"]
    assert found["page"] and {"en", "ru", "hi"} <= set(found["languages"])
    assert found["pose_loads"]  # shop the look's models (models/pose) load from the wheel


@pytest.mark.parametrize("folder", ["demo", "models", "playground/static", "chat/locales"])
def test_the_wheel_carries_every_data_file_of_the_checkout(installed: Installed, folder: str) -> None:
    def data_files(root: Path) -> set[str]:
        return {str(path.relative_to(root)) for path in (root / folder).rglob("*")
                if path.is_file() and path.suffix not in (".py", ".pyc", ".mo")}

    assert data_files(REPO) and data_files(installed.site) == data_files(REPO)


def test_fashionbot_demo_runs_from_another_directory(installed: Installed) -> None:
    done = installed.run(installed.venv / "bin" / "fashionbot", "demo", "--k", "3", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "808 products indexed" in done.stdout
    assert "demo/photos/tshirt-1882.jpg:" in done.stdout
    found = int(done.stdout.split("found the photographed product in the top 3 for ")[1].split()[0])
    assert found >= 6  # as in the checkout: user-like photos of catalog items find those items
    # It writes where it runs (README: "Where it writes"), never into the installed package.
    assert (installed.elsewhere / "var" / "index" / "current" / "manifest.json").is_file()
    assert not list(installed.site.glob("*/var"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_playground_and_its_bot_answer_an_example_photo_from_another_directory(installed: Installed) -> None:
    """`fashionbot playground` starts the installed `python -m bot`; an example photo tapped in the page gets the
    photographed product back (the index is the demo test's, or built here when this test runs alone)."""
    port, log = free_port(), installed.elsewhere / "playground.log"
    with log.open("w") as output:
        playground = subprocess.Popen([installed.venv / "bin" / "fashionbot", "playground", "--port", str(port)],
                                      cwd=installed.elsewhere, env=installed.environment(), stdout=output,
                                      stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while "Playground ready" not in log.read_text():
            assert playground.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        with urllib.request.urlopen(f"{url}/") as page:
            assert b"<html" in page.read()
        form = urllib.parse.urlencode({"example": "tshirt-1882.jpg"}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/photo", data=form), timeout=10).close()
        deadline = time.monotonic() + 120
        while True:
            with urllib.request.urlopen(f"{url}/api/messages?after=-1", timeout=30) as answer:
                album = [m["text"] for m in json.load(answer)["messages"] if m["from_bot"] and m["album"]]
            if album or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert any("https://www.myntra.com/1882" in caption for caption in album), (album, log.read_text()[-3000:])
    finally:
        playground.send_signal(signal.SIGINT)  # as Ctrl-C: the playground stops its bot, then itself
        try:
            assert playground.wait(timeout=60) == 0, log.read_text()[-3000:]
        finally:
            if playground.poll() is None:
                playground.kill()
