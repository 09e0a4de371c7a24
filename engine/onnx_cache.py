"""ONNX exports of an engine, made once per model and kept, like a model hub's cache.

An export is a folder named by its key — the backbone and its weights, the head, the precision and what the
export depends on — holding ``backbone.onnx`` (and ``backbone.int8.onnx``), ``head.onnx`` and
``manifest.json`` (what the engine that was exported computes: its fingerprint fields, preprocessing, head
record, and the export's measured parity with it). A missing export is written by a child process
(``python -m engine.onnx_export``), so a process serving on ONNX Runtime never imports torch, into a
temporary folder that is renamed into place: workers starting together end up sharing one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .config import (
    AUTO,
    AUTO_ARTIFACT,
    DEFAULT_ARTIFACT,
    EMBEDDING_VERSION,
    PACKAGED_DEFAULT,
    PACKAGED_DISTRIBUTIONS,
    EngineConfig,
    default_export_dir,
)

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
EXPORT_FORMAT = 1
# Loading torch and timm, exporting and checking parity takes about 20 s on two cores; int8 calibration more.
EXPORT_TIMEOUT_S = 900.0
# The export's vectors against PyTorch's on the packaged demo images, median cosine (issue 20).
PARITY_FLOOR = {"fp32": 0.995, "int8": 0.99}


class OnnxExportError(RuntimeError):
    """The model could not be exported, or its export does not hold parity with PyTorch; the message says why."""


@dataclass(frozen=True)
class Export:
    """One export folder and its manifest."""

    folder: Path
    manifest: dict

    def backbone(self, precision: str) -> Path:
        return self.folder / self.manifest["files"][f"backbone_{precision}"]

    @property
    def head_path(self) -> Path | None:
        head = self.manifest["files"].get("head")
        return self.folder / head if head else None

    def check_parity(self, precision: str) -> None:
        """Refuse an export whose vectors stray from PyTorch's more than the floor allows."""
        parity = self.manifest.get("parity", {}).get(precision)
        if parity is None:
            raise OnnxExportError(f"{self.folder} has no {precision} parity record; delete it to export again")
        if parity["median_cosine"] < PARITY_FLOOR[precision]:
            raise OnnxExportError(
                f"the {precision} ONNX export keeps a median cosine of {parity['median_cosine']:.4f} to PyTorch's "
                f"vectors on the demo images, under the {PARITY_FLOOR[precision]} its results are trusted at; serve "
                f"with FASHIONBOT_PRECISION=fp32 or FASHIONBOT_RUNTIME=torch")


def export_key(config: EngineConfig) -> str:
    """What decides an export's contents, hashed: a changed weights file or head, another precision, another
    timm or torch (they build and trace the graph) gets a new folder."""
    name = PACKAGED_DEFAULT if config.backbone == AUTO else config.backbone
    fields = {
        "format": EXPORT_FORMAT,
        "embedding_version": EMBEDDING_VERSION,
        "backbone": name,
        "weights": _file_identity(config.weights) if config.weights else None,
        "packaged": _version(PACKAGED_DISTRIBUTIONS.get(name)),
        "artifact": _artifact_identity(config.artifact),
        "precision": config.precision,
        "timm": _version("timm"),
        "torch": _version("torch"),
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return f"{name}-{config.precision}-{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


def exported(config: EngineConfig) -> Export:
    """The export for ``config``: the kept one, or one made now in a child process (refused below parity)."""
    root = Path(config.export_dir or default_export_dir()).expanduser()
    folder = root / export_key(config)
    if not (folder / MANIFEST).is_file():
        _export_in_child(config, folder)
    export = Export(folder, json.loads((folder / MANIFEST).read_text()))
    export.check_parity(config.precision)
    return export


def _export_in_child(config: EngineConfig, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(config).items()}
    log.info("exporting %s to ONNX (%s) in %s: once per model, about 20 s", config.backbone, config.precision,
             folder)
    command = [sys.executable, "-m", "engine.onnx_export", "--out", str(scratch), "--config", json.dumps(settings)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S,
                              env={**os.environ, "PYTHONPATH": _import_root()})
        if done.returncode != 0:
            raise OnnxExportError(f"exporting {config.backbone} to ONNX failed: {done.stderr.strip()[-2000:]}")
        try:
            scratch.rename(folder)
        except OSError:  # another worker published the same export first: theirs is as good
            if not (folder / MANIFEST).is_file():
                raise
    except subprocess.TimeoutExpired as error:
        raise OnnxExportError(f"exporting {config.backbone} to ONNX took over {EXPORT_TIMEOUT_S:.0f} s") from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _import_root() -> str:
    """The folder this package is imported from, first on the child's path, ahead of what the parent had."""
    here = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join([here, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])


def _artifact_identity(artifact: str | Path | None) -> str | None:
    if artifact is None or str(artifact).lower() == "none":
        return None
    if str(artifact) == AUTO_ARTIFACT:
        return _file_identity(DEFAULT_ARTIFACT) if DEFAULT_ARTIFACT.is_file() else None
    return _file_identity(artifact)


def _file_identity(path: str | Path) -> str:
    """A file's sha256; a name that is no file (``random``, a missing path) as itself."""
    path = Path(path).expanduser()
    if not path.is_file():
        return str(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(distribution: str | None) -> str | None:
    if distribution is None:
        return None
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
