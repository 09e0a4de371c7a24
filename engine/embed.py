"""The engine: images in, L2-normalised float32 embeddings out, batched, on the chosen device."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .backbones import AUTO, Backbone, create_backbone
from .device import inference_context, resolve_device
from .preprocess import DEFAULT_MAX_PIXELS, build_transform, decode_image, inference_data_config

log = logging.getLogger(__name__)

# Bump when the way vectors are computed changes without the backbone or preprocessing changing.
EMBEDDING_VERSION = 1


@dataclass(frozen=True)
class EngineConfig:
    backbone: str = AUTO
    weights: str | None = None
    device: str = "auto"
    batch_size: int = 16
    max_pixels: int = DEFAULT_MAX_PIXELS
    hub_timeout_s: float = 2.0
    threads: int | None = None


class Engine:
    """A loaded backbone with its preprocessing. Build with :meth:`load`; no model exists before that."""

    def __init__(self, backbone: Backbone, device: torch.device, config: EngineConfig) -> None:
        self.config = config
        self.device = device
        self.backbone_name = backbone.name
        self.weights_source = backbone.weights_source
        self.data_config = inference_data_config(backbone.model)
        self._transform = build_transform(self.data_config)
        # channels_last is about twice as fast for these convnets on CPU (oneDNN) as well as on GPU.
        self._model = backbone.model.to(device, memory_format=torch.channels_last)
        self.dim = int(backbone.model.num_features)
        self.fingerprint_fields = {
            "backbone": backbone.name,
            "weights_sha256": backbone.weights_sha256,
            "preprocess": {key: _jsonable(value) for key, value in sorted(self.data_config.items())},
            "embedding_version": EMBEDDING_VERSION,
            "dim": self.dim,
        }
        self.fingerprint = fingerprint_of(self.fingerprint_fields)

    @classmethod
    def load(cls, config: EngineConfig | None = None) -> Engine:
        config = config or EngineConfig()
        if config.threads:
            torch.set_num_threads(config.threads)
        device = resolve_device(config.device)
        engine = cls(create_backbone(config.backbone, weights=config.weights,
                                     hub_timeout_s=config.hub_timeout_s), device, config)
        log.info("engine ready: %s on %s, %d-d vectors, fingerprint %s",
                 engine.backbone_name, device, engine.dim, engine.fingerprint)
        return engine

    def decode(self, data: bytes) -> Image.Image:
        return decode_image(data, self.config.max_pixels)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        return torch.stack([self._transform(image) for image in images])

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed RGB images → (N, D) float32, each row of unit length."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = self.config.batch_size
        return np.concatenate([self.embed_tensors(self.preprocess(images[start:start + size]))
                               for start in range(0, len(images), size)])

    def embed_bytes(self, blobs: Sequence[bytes]) -> np.ndarray:
        """Decode and embed; raises :class:`ImageDecodeError` for the first bad blob."""
        return self.embed([self.decode(blob) for blob in blobs])

    @torch.inference_mode()
    def embed_tensors(self, batch: torch.Tensor) -> np.ndarray:
        """Embed an already preprocessed (N, 3, H, W) batch."""
        non_blocking = self.device.type == "cuda"
        batch = batch.to(self.device, non_blocking=non_blocking).contiguous(memory_format=torch.channels_last)
        with inference_context(self.device):
            features = self._model(batch)
        features = torch.nn.functional.normalize(features.float(), dim=1)
        return features.cpu().numpy().astype(np.float32, copy=False)

    def describe(self) -> dict:
        return {"backbone": self.backbone_name, "weights": self.weights_source, "device": str(self.device),
                "dim": self.dim, "fingerprint": self.fingerprint}


def fingerprint_of(fields: dict) -> str:
    """A short stable id of everything that decides what a vector means."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _jsonable(value):
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
