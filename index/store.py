"""On-disk layout of an index: build directories, a manifest, and an atomically swapped `current` link.

```
ROOT/current -> builds/20261123-101500-ab12cd    (a symlink, replaced atomically)
ROOT/builds/20261123-101500-ab12cd/{manifest.json, vectors.faiss, products.sqlite}
ROOT/builds/<id>.partial/                         (a build in progress; never read)
```
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .errors import IndexFormatError, IndexNotFoundError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PRODUCTS = "products.sqlite"
CURRENT = "current"
BUILDS = "builds"
PARTIAL_SUFFIX = ".partial"
KEEP_BUILDS = 2  # the serving build and the one before it, for a quick roll-back


@dataclass
class Manifest:
    fingerprint: str
    count: int
    dim: int
    index_key: str
    engine: dict = field(default_factory=dict)
    source: str = ""
    source_hash: str = ""
    skipped: int = 0
    build_seconds: float = 0.0
    # Where the products' labels came from ({"coverage": attribute → {"feed", "image", "none"}, "contradicted":
    # products whose packshots contradict their feed}); builds from before labels have none.
    labels: dict = field(default_factory=dict)
    built_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise IndexNotFoundError(f"no index at {directory} ({MANIFEST} is missing)") from error
        except (OSError, json.JSONDecodeError) as error:
            raise IndexFormatError(f"{path} is unreadable: {error}") from error
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{path} has format version {data.get('format_version')}, this fashionbot reads "
                f"{FORMAT_VERSION}; rebuild the index with `fashionbot index build`"
            )
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def resolve_build(root: Path) -> Path:
    """The build directory that ``root`` serves: its ``current`` link, or ``root`` itself if a build."""
    root = Path(root)
    current = root / CURRENT
    if current.exists():
        return current.resolve()
    if (root / MANIFEST).exists():
        return root
    raise IndexNotFoundError(
        f"no index at {root}; build one with `fashionbot index build --catalog FEED --out {root}`"
    )


def new_build_dir(root: Path) -> Path:
    """A fresh, empty ``.partial`` directory for a build; leftovers of crashed builds are removed."""
    builds = Path(root) / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    for stale in builds.glob(f"*{PARTIAL_SUFFIX}"):
        if _age_s(stale) > 60:  # younger ones may belong to a build running in another process
            log.info("removing an abandoned partial build %s", stale)
            shutil.rmtree(stale, ignore_errors=True)
    build_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    directory = builds / f"{build_id}{PARTIAL_SUFFIX}"
    directory.mkdir()
    return directory


def publish(partial: Path) -> Path:
    """Make a finished build the one served, atomically, and prune old builds.

    The build directory is renamed out of ``.partial`` first, then a new symlink replaces ``current``
    with ``os.replace`` — a reader sees either the old build or the new one, never a mix.
    """
    _fsync_dir_contents(partial)
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
    os.replace(partial, final)
    root = final.parent.parent
    link_tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
    os.symlink(Path(BUILDS) / final.name, link_tmp)
    os.replace(link_tmp, root / CURRENT)
    _prune(root / BUILDS, keep=final)
    return final


def _prune(builds: Path, keep: Path) -> None:
    finished = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(PARTIAL_SUFFIX))
    for old in [p for p in finished if p != keep][: max(0, len(finished) - KEEP_BUILDS)]:
        # Open readers keep their file handles; removing the directory does not disturb them.
        shutil.rmtree(old, ignore_errors=True)


def _fsync_dir_contents(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
