"""Which runtime runs the model, and the one interface both engines offer to what serves and indexes.

ONNX Runtime serves on the CPU: the same weights run about twice as fast as eager PyTorch there, and a process
that never imports torch holds about half the memory (BENCHMARKS.md). PyTorch stays for the GPU (nvJPEG decode,
autocast, torch.compile), for training, and as the fallback: ``auto`` picks torch where a GPU is, else onnx.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

from .config import AUTO, EngineConfig

if TYPE_CHECKING:
    from .attributes import Attributes
    from .framing import Framing
    from .preprocess import ImageDecodeError

log = logging.getLogger(__name__)


class HeadInfo(Protocol):
    """What serving reads of a trained head: how it was trained (re-rank weights, the "nothing close" floor,
    the framing), which one it is, and the labels of each attribute."""

    @property
    def training(self) -> dict: ...

    @property
    def sha256(self) -> str: ...

    @property
    def vocabularies(self) -> dict[str, list[str]]: ...


class EmbeddingEngine(Protocol):
    """A loaded model with its preprocessing, on either runtime: packshots and photos in, unit vectors out."""

    config: EngineConfig
    runtime: str  # "onnx" or "torch"
    fingerprint: str  # names the weights, the head, the preprocessing, the runtime and its precision
    dim: int
    backbone_name: str
    framing: Framing
    decode_path: str
    build_batch_size: int

    @property
    def decode_threads(self) -> int: ...

    @property
    def head(self) -> HeadInfo | None: ...

    def decode(self, data: bytes) -> Image.Image: ...

    def decode_photos(self, blobs: Sequence[bytes]) -> tuple[list[Image.Image], list[ImageDecodeError | None]]: ...

    def embed_photos(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, list[Attributes] | None]: ...

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    def prepare_array(self, data: bytes) -> np.ndarray: ...

    def stack_arrays(self, arrays: Sequence[np.ndarray]) -> Any: ...

    def prepare_bytes(self, blobs: Sequence[bytes]) -> tuple[Any, list[ImageDecodeError | None]]: ...

    def embed_with_attributes(self, batch: Any) -> tuple[np.ndarray, list[Attributes] | None]: ...

    def describe(self) -> dict: ...


def resolve_runtime(config: EngineConfig) -> str:
    """``onnx`` or ``torch`` for this configuration, without importing torch.

    ``auto``: torch where it has something ONNX Runtime (CPU) lacks here — a GPU, torch.compile, batched
    tensor decoding — or where onnxruntime is not installed; onnx otherwise. Asking for onnx with one of those
    is a clear error rather than a silent change.
    """
    wants_torch = [reason for reason, applies in (
        ("device cuda", config.device.startswith("cuda")),
        ("compile", config.compile),
        ("decode tensor", config.decode == "tensor"),
    ) if applies]
    if config.runtime == "torch":
        return "torch"
    has_onnxruntime = find_spec("onnxruntime") is not None
    if config.runtime == "onnx":
        if wants_torch:
            raise ValueError(f"runtime onnx runs on the CPU without torch; {', '.join(wants_torch)} needs runtime "
                             f"torch (or auto)")
        if not has_onnxruntime:
            raise ValueError("runtime onnx needs the onnxruntime package: pip install onnxruntime")
        return "onnx"
    if wants_torch or (config.device == AUTO and gpu_present()):
        return "torch"
    if not has_onnxruntime:
        log.info("onnxruntime is not installed: the model runs on PyTorch")
        return "torch"
    return "onnx"


def gpu_present() -> bool:
    """Whether an NVIDIA GPU is visible to this machine (its driver's device files), asked without torch."""
    return Path("/dev/nvidiactl").exists() or any(Path("/proc/driver/nvidia/gpus").glob("*"))


def load_engine(config: EngineConfig | None = None) -> EmbeddingEngine:
    """The engine for ``config`` on the runtime :func:`resolve_runtime` picks; torch is imported only for torch."""
    config = config or EngineConfig()
    if resolve_runtime(config) == "onnx":
        from .onnx_engine import OnnxEngine

        return OnnxEngine.load(config)
    from .embed import Engine

    return Engine.load(config)
