"""The layering, enforced: who may import whom, what the runtime never needs, and that importing is cheap.

Each top-level folder is one part; a part imports only the parts below it. Read with ``ast`` (nothing is
imported), so a violation names the file and line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# part → the parts of ours it may import (its own modules always allowed)
ALLOWED = {
    "engine": set(),
    "catalog": set(),
    "index": {"catalog"},
    "recommender": {"engine", "catalog", "index"},
    "chat": {"recommender", "engine", "catalog", "index"},
    "bot": {"chat", "recommender", "engine", "catalog", "index"},
    "playground": {"recommender"},  # runs the bot as a process; never imports it
    "training": {"recommender", "engine", "catalog", "index"},
    "fashionbot": {"training", "playground", "chat", "recommender", "engine", "catalog", "index"},
}
PARTS = set(ALLOWED)
RUNTIME = ("engine", "catalog", "index", "recommender", "chat", "bot")
# What only training, the CLI's research commands, the Discord front door or builds on Ray need.
OPTIONAL_LIBRARIES = {"sklearn", "matplotlib", "pytorch_metric_learning", "discord", "ray"}
# Where the runtime may import one: (library, the file or folder that is its only door).
OPTIONAL_DOORS = {("discord", "discord"), ("ray", "ray_indexing.py")}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level name) of every absolute import in a file, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def files_of(part: str) -> list[Path]:
    return sorted((REPO / part).rglob("*.py"))


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_the_parts_below_it(part: str) -> None:
    assert files_of(part), f"{part}/ has no modules"
    wrong = [f"{path.relative_to(REPO)}:{line} imports {name}"
             for path in files_of(part) for line, name in imports_of(path)
             if name in PARTS and name != part and name not in ALLOWED[part]]
    assert wrong == []


@pytest.mark.parametrize("part", RUNTIME)
def test_the_runtime_needs_no_training_libraries(part: str) -> None:
    wrong = [f"{path.relative_to(REPO)}:{line} imports {name}"
             for path in files_of(part) for line, name in imports_of(path)
             if name in OPTIONAL_LIBRARIES and not any(name == library and door in path.parts
                                                       for library, door in OPTIONAL_DOORS)]
    assert wrong == []


def test_importing_and_building_the_telegram_bot_loads_no_model_and_no_optional_library() -> None:
    """In a fresh interpreter: any model creation fails loudly; the optional extras must stay unimported."""
    code = """
import sys, timm
def refuse(*args, **kwargs):
    raise AssertionError("a model was created while importing or building the bot")
timm.create_model = refuse
import bot, bot.telegram, bot.telegram.__main__
from bot.telegram import BotSettings, build_application
from recommender import RecommenderSettings
settings = BotSettings(bot_token="123456789:" + "A" * 35, _env_file=None)
build_application(settings, RecommenderSettings(_env_file=None))
optional = sorted(name for name in {OPTIONAL} if name in sys.modules)
assert not optional, f"imported: {optional}"
threads = __import__("threading").active_count()
assert threads == 1, f"{threads} threads running after import"
""".replace("{OPTIONAL}", repr(OPTIONAL_LIBRARIES))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_importing_every_part_creates_no_model_and_starts_no_thread() -> None:
    code = """
import threading, timm
timm.create_model = None  # any use of it while importing fails
import engine, catalog, index, recommender, chat, bot, bot.telegram, bot.discord, playground, training, fashionbot.cli
assert threading.active_count() == 1, threading.enumerate()
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_checking_a_feed_needs_no_torch() -> None:
    """`fashionbot catalog check` is for a shop's laptop: the CLI, logging and feed reading load no model stack."""
    code = """
import sys
from typer.testing import CliRunner
from fashionbot.cli import app
result = CliRunner().invoke(app, ["catalog", "check", "demo/catalog.csv", "--json"])
assert result.exit_code == 0, result.output
assert "torch" not in sys.modules, "torch was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


# What makes training data; none of it may see the independent generator that models are chosen and judged on.
TRAINING_DATA = ("views.py", "cache.py", "fit.py", "finetune.py", "parallel.py", "real_photos.py", "data.py",
                 "sample.py")


def test_nothing_that_makes_training_data_imports_the_evaluation_generator() -> None:
    wrong = []
    for name in TRAINING_DATA:
        tree = ast.parse((REPO / "training" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] in (
                    "eval_views", "photo_sets", "evaluation"):
                wrong.append(f"training/{name}:{node.lineno} imports {node.module}")
    assert wrong == []
    assert "eval_views" not in (REPO / "training" / "views.py").read_text()
