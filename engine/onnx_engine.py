"""The engine on ONNX Runtime (CPU), with numpy alone in the process: no PyTorch is imported.

It serves what :class:`engine.embed.Engine` serves — packshots and photos in, unit vectors and attributes out —
from an export of that engine (:mod:`engine.onnx_cache`): the same weights, the same head, the same
preprocessing, its fingerprint naming the runtime and precision. A photo's views (``centre+garment``) go through
the backbone in one batch, and the garment mask runs on the same runtime, from the same decoded pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .attributes import Attributes, attributes_from_probabilities, softmax
from .colour import PixelColour, batch_pixels
from .config import EngineConfig, fingerprint_of
from .framing import average_views
from .garment import GarmentLocator
from .onnx_cache import Export, exported
from .onnx_export import OnnxBackbone, OnnxHead
from .ort_sessions import cores
from .photos import PhotoEmbedding
from .pixels import TensorPreprocess
from .preprocess import ImageDecodeError, decode_image, each_decodable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportedHead:
    """What serving reads of the exported head (see :class:`engine.runtime.HeadInfo`)."""

    sha256: str
    vocabularies: dict[str, list[str]]
    training: dict = field(default_factory=dict)


class OnnxEngine(PhotoEmbedding):
    """An exported backbone (and head) on ONNX Runtime. Build with :meth:`load`; no model exists before that."""

    runtime = "onnx"

    def __init__(self, export: Export, config: EngineConfig, locator: GarmentLocator | None = None) -> None:
        manifest = export.manifest
        self.config = config
        self.precision = config.precision
        self.threads = config.threads or cores()
        self.decode_threads = self.threads
        self.device = "cpu"
        self.decode_path = "pil"
        self.backbone_name = manifest["backbone"]
        self.weights_source = manifest["weights_source"]
        self.data_config = manifest["data_config"]
        self._pixels = TensorPreprocess.from_data_config(self.data_config)
        self._resizers: ThreadPoolExecutor | None = None  # made on the first batch that needs it
        self._backbone = OnnxBackbone(export.backbone(config.precision), self.threads)
        head = manifest.get("head")
        self.head = ExportedHead(head["sha256"], head["vocabularies"], head["training"]) if head else None
        self._head = OnnxHead(export.head_path, self.threads) if head and export.head_path else None
        self.build_batch_size = config.batch_size
        self.dim = int(manifest["dim"])
        self.backbone_fingerprint = manifest["backbone_fingerprint"]
        # Colour read from the pixels, blended into the colour head's (engine/colour.py), as in PyTorch's engine.
        self.pixel_colour = PixelColour.for_head(self.head.vocabularies if self.head else None)
        self.fingerprint_fields = {**manifest["fingerprint_fields"], "runtime": self.runtime,
                                   "precision": self.precision}
        self.fingerprint_fields.pop("pixel_colour", None)
        if self.pixel_colour is not None:
            self.fingerprint_fields["pixel_colour"] = self.pixel_colour.fingerprint()
        # Feature caches (training, evaluation) keep each runtime's features apart: they differ a little.
        self.features_fingerprint = fingerprint_of({"features": manifest["features_fingerprint"],
                                                    "runtime": self.runtime, "precision": self.precision})
        self.fingerprint = fingerprint_of(self.fingerprint_fields)
        self._frame_photos(config.query_framing, self.threads, locator, config.garment_model)

    @classmethod
    def load(cls, config: EngineConfig | None = None) -> OnnxEngine:
        config = config or EngineConfig(runtime="onnx")
        engine = cls(exported(config), config)
        log.info("engine ready: %s on ONNX Runtime (%s, %d threads), %d-d vectors, fingerprint %s, photos framed %s",
                 engine.backbone_name, engine.precision, engine.threads, engine.dim, engine.fingerprint,
                 engine.framing)
        return engine

    def decode(self, data: bytes) -> Image.Image:
        # JPEGs decode at the smallest DCT scale keeping twice the input size (engine.embed.Engine.decode).
        return decode_image(data, self.config.max_pixels, draft_size=2 * max(self.data_config["input_size"][1:]))

    def prepare_array(self, data: bytes) -> np.ndarray:
        """Bytes → one preprocessed (H, W, 3) float32 image; safe from many threads. Raises ImageDecodeError."""
        return self._pixels.pil_to_array(self.decode(data))

    def stack_arrays(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """(H, W, 3) arrays → one (N, 3, H, W) batch."""
        return np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2))

    def prepare_bytes(self, blobs: Sequence[bytes]) -> tuple[np.ndarray, list[ImageDecodeError | None]]:
        arrays, errors = each_decodable(blobs, self.prepare_array)
        if not arrays:
            return np.zeros((0, 3, *self.data_config["input_size"][1:]), np.float32), errors
        return self.stack_arrays(arrays), errors

    def preprocess(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Images → one (N, 3, H, W) batch, resized on the engine's threads when there are several (PIL lets go
        of the GIL while it resizes: a batch of photos' views is otherwise a single core's work)."""
        if len(images) < 4 or self.threads < 2:
            return self.stack_arrays([self._pixels.pil_to_array(image) for image in images])
        if self._resizers is None:
            self._resizers = ThreadPoolExecutor(self.threads, thread_name_prefix="preprocess")
        return self.stack_arrays(list(self._resizers.map(self._pixels.pil_to_array, images)))

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed RGB images (packshots: whole) → (N, D) float32 unit rows."""
        return self.vectors_of(self.backbone_features(self.preprocess(images)))[0] if images else np.zeros(
            (0, self.dim), np.float32)

    def embed_with_attributes(self, batch: np.ndarray) -> tuple[np.ndarray, list[Attributes] | None]:
        """One pass over a preprocessed batch: unit vectors and, with a head, each image's attributes (packshots:
        their colour blended with the colour of their pixels)."""
        vectors, attributes = self.vectors_of(self.backbone_features(batch))
        if self.pixel_colour is not None and attributes is not None:
            attributes = self.pixel_colour.blend_packshots(
                attributes, batch_pixels(batch, self.data_config["mean"], self.data_config["std"]))
        return vectors, attributes

    def backbone_features(self, batch: np.ndarray) -> np.ndarray:
        """The backbone's pooled features, ``batch_size`` images per run: (N, num_features) float32."""
        size = self.config.batch_size
        parts = [self._backbone.features(batch[start:start + size]) for start in range(0, len(batch), size)]
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def photo_features(self, images: Sequence[Image.Image],
                       masks: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """User photos' backbone features under :attr:`framing`: every view of every photo in one batch (at most
        ``batch_size`` views a run, never splitting a photo's views), averaged per photo; ``masks``: their garment
        masks, when already computed."""
        views = self.framing.frame(images, self.locator, masks)
        size = max(self.config.batch_size, len(self.framing.views))
        size -= size % len(self.framing.views)
        batch = self.preprocess(views)
        features = np.concatenate([self._backbone.features(batch[start:start + size])
                                   for start in range(0, len(batch), size)])
        return average_views(features, len(self.framing.views))

    def vectors_of(self, features: np.ndarray) -> tuple[np.ndarray, list[Attributes] | None]:
        """Backbone features → unit vectors and, with a head, attributes."""
        if self._head is None or self.head is None:
            norms = np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
            return (features / norms).astype(np.float32, copy=False), None
        vectors, logits = self._head(features)
        probabilities = {name: softmax(values) for name, values in logits.items()}
        return vectors.astype(np.float32, copy=False), attributes_from_probabilities(probabilities,
                                                                                     self.head.vocabularies)

    def attributes(self, images: Sequence[Image.Image]) -> list[Attributes]:
        if self.head is None:
            raise RuntimeError("this engine has no trained head (EngineConfig.artifact); it predicts no attributes")
        attributes = self.embed_with_attributes(self.preprocess(images))[1] if images else []
        return attributes or []

    def describe(self) -> dict:
        return {"backbone": self.backbone_name, "weights": self.weights_source, "device": "cpu",
                "runtime": self.runtime, "precision": self.precision, "dim": self.dim,
                "fingerprint": self.fingerprint, "query_framing": str(self.framing),
                "head": self.head.training.get("name", self.head.sha256[:12]) if self.head else None}

