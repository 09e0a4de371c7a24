"""The engine: images in, L2-normalised float32 embeddings out, batched, on the chosen device."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import torch
from PIL import Image

from .attributes import Attributes
from .backbones import Backbone, create_backbone
from .colour import PixelColour, batch_pixels
from .config import AUTO_ARTIFACT, DEFAULT_ARTIFACT, EMBEDDING_VERSION, EngineConfig, fingerprint_of
from .device import autocast_dtype, inference_context, resolve_device
from .framing import average_views
from .garment import GarmentLocator
from .heads import HeadArtifact, HeadArtifactError, attributes_of
from .photos import PhotoEmbedding
from .preprocess import ImageDecodeError, build_transform, decode_image, each_decodable, inference_data_config
from .tensor_decode import TensorPreprocess, decode_batch

log = logging.getLogger(__name__)



class Engine(PhotoEmbedding):
    """A loaded backbone with its preprocessing on PyTorch. Build with :meth:`load` (or, to let the configuration
    choose the runtime, :func:`engine.runtime.load_engine`); no model exists before that."""

    runtime = "torch"

    def __init__(self, backbone: Backbone, device: torch.device, config: EngineConfig,
                 head: HeadArtifact | None = None, locator: GarmentLocator | None = None) -> None:
        self.config = config
        self.device = device
        self.backbone_name = backbone.name
        self.weights_source = backbone.weights_source
        self.data_config = inference_data_config(backbone.model)
        self._transform = build_transform(self.data_config)
        self._tensor_preprocess = _tensor_preprocess(self.data_config)
        self.decode_path = _decode_path(config.decode, device, self._tensor_preprocess)
        # Index builds on a GPU need big batches to keep it busy; queries keep the configured size.
        self.build_batch_size = max(config.batch_size, 256) if device.type == "cuda" else config.batch_size
        # channels_last is about twice as fast for these convnets on CPU (oneDNN) as well as on GPU (a real
        # keyword of Module.to that torch's overloads leave out).
        self._model = backbone.model.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        if config.compile:
            self._model = torch.compile(self._model)
        self.dim = int(cast(int, backbone.model.num_features))  # every timm model has it
        self.fingerprint_fields = {
            "backbone": backbone.name,
            "weights_sha256": backbone.weights_sha256,
            "preprocess": {key: _jsonable(value) for key, value in sorted(self.data_config.items())},
            "embedding_version": EMBEDDING_VERSION,
            "dim": self.dim,
        }
        self.fingerprint = fingerprint_of(self.fingerprint_fields)
        # What the backbone alone computes; feature caches and trained heads are keyed by it.
        self.backbone_fingerprint = self.fingerprint
        self.head = _attach_head(head, self.backbone_fingerprint, device,
                                 optional=str(config.artifact) == AUTO_ARTIFACT)
        # A cache of backbone features is only valid for the weights that computed it.
        self.features_fingerprint = self.backbone_fingerprint
        if self.head is not None:
            if self.head.backbone_state:
                self.head.apply_backbone_state(backbone.model)
                self.features_fingerprint = fingerprint_of({**self.fingerprint_fields, "tail": self.head.sha256})
            self.dim = self.head.head.spec.out_dim
            self.fingerprint_fields.update(dim=self.dim, head_sha256=self.head.sha256)
        # Colour read from the pixels, blended into the colour head's (engine/colour.py): attributes only.
        self.pixel_colour = PixelColour.for_head(self.head.head.spec.vocabularies if self.head else None)
        if self.pixel_colour is not None:
            self.fingerprint_fields["pixel_colour"] = self.pixel_colour.fingerprint()
        # Vectors of another runtime or precision differ a little; an index answers only its own engine's.
        dtype = autocast_dtype(device)
        self.precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32") if dtype else "fp32"
        self.fingerprint = fingerprint_of({**self.fingerprint_fields, "runtime": self.runtime,
                                           "precision": self.precision})
        self._frame_photos(config.query_framing, config.threads, locator, config.garment_model)

    @classmethod
    def load(cls, config: EngineConfig | None = None) -> Engine:
        config = config or EngineConfig()
        if config.threads:
            torch.set_num_threads(config.threads)
        device = resolve_device(config.device)
        backbone = create_backbone(config.backbone, weights=config.weights, hub_timeout_s=config.hub_timeout_s)
        engine = cls(backbone, device, config, _resolve_artifact(config.artifact, backbone))
        log.info("engine ready: %s on %s, %d-d vectors, fingerprint %s, photos framed %s",
                 engine.backbone_name, device, engine.dim, engine.fingerprint, engine.framing)
        return engine

    @property
    def decode_threads(self) -> int:
        """Threads that decode packshots for an index build: as many as torch's (they run no torch ops)."""
        return max(1, torch.get_num_threads())

    def decode(self, data: bytes) -> Image.Image:
        # On the PIL path JPEGs decode at the smallest DCT scale keeping twice the input size: 1080x1440 →
        # 540x720 at half the cost of a full decode, vectors within cosine 0.999 of full decode (GPU path);
        # at the input size itself it would be a third of the cost but only cosine 0.99 (BENCHMARKS.md).
        draft = 2 * max(self.data_config["input_size"][1:]) if self.decode_path == "pil" else None
        return decode_image(data, self.config.max_pixels, draft_size=draft)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        if self._tensor_preprocess is None:
            return torch.stack([self._transform(image) for image in images])
        return self.stack_arrays([self._tensor_preprocess.pil_to_array(image) for image in images])

    def prepare_array(self, data: bytes) -> np.ndarray:
        """Bytes → one preprocessed (H, W, 3) float32 image in numpy; safe to call from many threads at once.

        Uses no torch ops, so decode threads never start OpenMP teams that fight the model's for the cores.
        Raises :class:`ImageDecodeError`.
        """
        image = self.decode(data)
        if self._tensor_preprocess is None:
            return self._transform(image).permute(1, 2, 0).numpy()
        return self._tensor_preprocess.pil_to_array(image)

    def stack_arrays(self, arrays: Sequence[np.ndarray]) -> torch.Tensor:
        """(H, W, 3) arrays → an (N, 3, H, W) channels_last batch, pinned when it will go to a GPU."""
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        return batch.pin_memory() if self.device.type == "cuda" else batch

    def prepare_bytes(self, blobs: Sequence[bytes]) -> tuple[torch.Tensor, list[ImageDecodeError | None]]:
        """Decode and preprocess a batch the device's way: the batch of good images, and per blob its error."""
        if self.decode_path == "tensor":
            assert self._tensor_preprocess is not None  # the tensor path is chosen only when there is one
            return decode_batch(blobs, self._tensor_preprocess, device=self.device,
                                max_pixels=self.config.max_pixels)
        arrays, errors = each_decodable(blobs, self.prepare_array)
        if not arrays:
            return torch.zeros((0, 3, *self.data_config["input_size"][1:])), errors
        return self.stack_arrays(arrays), errors

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed RGB images → (N, D) float32, each row of unit length."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = self.config.batch_size
        return np.concatenate([self.embed_tensors(self.preprocess(images[start:start + size]))
                               for start in range(0, len(images), size)])

    @torch.inference_mode()
    def embed_tensors(self, batch: torch.Tensor) -> np.ndarray:
        """Embed an already preprocessed (N, 3, H, W) batch."""
        return self.vectors_of(self._forward(batch))[0]

    @torch.inference_mode()
    def embed_with_attributes(self, batch: torch.Tensor) -> tuple[np.ndarray, list[Attributes] | None]:
        """One forward pass: unit-length vectors and, with a trained head, each image's attributes (packshots:
        their colour blended with the colour of their pixels)."""
        vectors, attributes = self.vectors_of(self._forward(batch))
        if self.pixel_colour is not None and attributes is not None:
            # A coarse grid of the pixels the model saw, copied off the device before anything else.
            coarse = batch[:, :, ::4, ::4].float().cpu().numpy()
            attributes = self.pixel_colour.blend_packshots(
                attributes, batch_pixels(coarse, self.data_config["mean"], self.data_config["std"], stride=1))
        return vectors, attributes

    @torch.inference_mode()
    def photo_features(self, images: Sequence[Image.Image],
                       masks: Sequence[np.ndarray | None] | None = None) -> torch.Tensor:
        """The backbone features of user photos under :attr:`framing`: (N, num_features) float32 on the CPU;
        ``masks``: their garment masks, when already computed."""
        views = self.framing.frame(images, self.locator, masks)
        size = max(self.config.batch_size, len(self.framing.views))
        features = torch.cat([self.backbone_features(self.preprocess(views[start:start + size]))
                              for start in range(0, len(views), size)])
        return torch.from_numpy(average_views(features.numpy(), len(self.framing.views)))

    @torch.inference_mode()
    def vectors_of(self, features: torch.Tensor) -> tuple[np.ndarray, list[Attributes] | None]:
        """Backbone features → unit vectors and, with a head, attributes (what ``embed_with_attributes`` returns)."""
        features = features.to(self.device).float()
        if self.head is None:
            features = torch.nn.functional.normalize(features, dim=1)
            return features.cpu().numpy().astype(np.float32, copy=False), None
        vectors, logits = self.head.head(features)
        return (vectors.cpu().numpy().astype(np.float32, copy=False),
                attributes_of(logits, self.head.head.spec.vocabularies))

    def attributes(self, images: Sequence[Image.Image]) -> list[Attributes]:
        """Each image's predicted attributes (label → probability); needs a trained head."""
        if self.head is None:
            raise RuntimeError("this engine has no trained head (EngineConfig.artifact); it predicts no attributes")
        size = self.config.batch_size
        rows: list[Attributes] = []
        for start in range(0, len(images), size):
            _, attributes = self.embed_with_attributes(self.preprocess(images[start:start + size]))
            assert attributes is not None  # a head predicts them
            rows.extend(attributes)
        return rows

    @torch.inference_mode()
    def backbone_features(self, batch: torch.Tensor) -> torch.Tensor:
        """The backbone's pooled features of a preprocessed batch: (N, num_features) float32 on the CPU."""
        return self._forward(batch).float().cpu()

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """The backbone on a batch: copied to the device (asynchronously from pinned memory), channels_last."""
        batch = batch.to(self.device, non_blocking=self.device.type == "cuda")
        with inference_context(self.device):
            return self._model(batch.contiguous(memory_format=torch.channels_last))

    def describe(self) -> dict:
        return {"backbone": self.backbone_name, "weights": self.weights_source, "device": str(self.device),
                "runtime": self.runtime, "precision": self.precision, "dim": self.dim, "fingerprint": self.fingerprint,
                "query_framing": str(self.framing),
                "head": self.head.training.get("name", self.head.sha256[:12]) if self.head else None}


def _resolve_artifact(artifact: str | Path | None, backbone: Backbone) -> HeadArtifact | None:
    """None → no head; "auto" → the shipped head when it fits this backbone, else none; a path → that head."""
    if artifact is None or str(artifact) == "":
        return None
    if str(artifact) == AUTO_ARTIFACT:
        if not DEFAULT_ARTIFACT.is_file():
            log.info("no shipped head at %s; embedding with the backbone alone", DEFAULT_ARTIFACT)
            return None
        try:
            head = HeadArtifact.load(DEFAULT_ARTIFACT)
        except HeadArtifactError as reason:
            log.warning("shipped head unusable (%s); embedding with the backbone alone", reason)
            return None
        if head.backbone != backbone.name:
            log.info("shipped head fits %s, not %s; embedding with the backbone alone", head.backbone, backbone.name)
            return None
        return head  # the fingerprint check happens once the backbone's fingerprint is known
    return HeadArtifact.load(Path(artifact).expanduser())


def _attach_head(head: HeadArtifact | None, backbone_fingerprint: str, device: torch.device, *,
                 optional: bool = False) -> HeadArtifact | None:
    if head is None:
        return None
    if head.backbone_fingerprint != backbone_fingerprint:
        if optional:
            log.info("shipped head was trained on other %s weights; embedding with the backbone alone", head.backbone)
            return None
        raise HeadArtifactError(
            f"the head was trained on backbone {head.backbone} (fingerprint {head.backbone_fingerprint}), not on "
            f"the loaded one (fingerprint {backbone_fingerprint}); train one for it with `fashionbot train`, "
            f"or set the artifact to none"
        )
    head.head.to(device).eval()
    return head


def _tensor_preprocess(data_config: dict) -> TensorPreprocess | None:
    try:
        return TensorPreprocess.from_data_config(data_config)
    except (ValueError, KeyError):
        return None


def _decode_path(requested: str, device: torch.device, tensor_preprocess: TensorPreprocess | None) -> str:
    """tensor on CUDA (nvJPEG), pil on the CPU: there PIL at reduced DCT scale is 3x faster than decode_jpeg."""
    if requested not in ("auto", "tensor", "pil"):
        raise ValueError(f"decode must be auto, tensor or pil, got {requested!r}")
    if tensor_preprocess is None:
        return "pil"
    if requested == "auto":
        return "tensor" if device.type == "cuda" else "pil"
    return requested


def _jsonable(value):
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
