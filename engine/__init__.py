"""Photo bytes in, embedding vectors out: safe decoding, timm backbones, batched inference.

Names are loaded on first use: decoding, the configuration and an ONNX Runtime engine cost no PyTorch, so a bot
serving on ONNX Runtime never imports it (``load_engine`` picks the runtime).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backbones import BackboneUnavailableError, create_backbone
    from .batcher import MicroBatcher
    from .config import AUTO, EngineConfig
    from .embed import Engine
    from .preprocess import ImageDecodeError, ImageProblem, decode_image
    from .runtime import EmbeddingEngine, load_engine

_HOMES = {
    "AUTO": "config", "EngineConfig": "config", "BackboneUnavailableError": "backbones",
    "create_backbone": "backbones", "MicroBatcher": "batcher", "Engine": "embed", "ImageDecodeError": "preprocess",
    "ImageProblem": "preprocess", "decode_image": "preprocess", "EmbeddingEngine": "runtime",
    "load_engine": "runtime",
}
__all__ = ["AUTO", "BackboneUnavailableError", "EmbeddingEngine", "Engine", "EngineConfig", "ImageDecodeError",
           "ImageProblem", "MicroBatcher", "create_backbone", "decode_image", "load_engine"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
