"""How a user's photo is framed before it is embedded; catalog packshots are always taken whole.

A packshot fills its frame, a phone photo does not: squashing a whole photo with a busy backdrop, a tilt
or a partial view keeps the backdrop and distorts the garment. A query is embedded as one or more views,
whose features are averaged:

- ``whole``: the whole frame squashed to the input size (what packshots get);
- ``centre``: the shorter side resized, the centre 87.5 % kept (timm's default evaluation framing);
- ``garment``: cropped to the garment that a salient-object mask finds (``engine.garment``), with a margin,
  padded to a square on white, the catalog's backdrop; ``centre`` where the mask is not trusted;
- ``cutout``: the same crop with everything the mask does not cover turned white, like a packshot;
- ``mirror``: the whole frame mirrored (people photograph either side of a garment).

``"centre+garment"`` embeds two views and averages them. Which views ship was measured on photos that the
project did not generate (``fashionbot eval``; README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from .config import AUTO_FRAMING
from .garment import CONFIDENT, GarmentLocator, garment_of

VIEWS = ("whole", "centre", "garment", "cutout", "mirror")
CENTRE_CROP = 0.875
GARMENT_MARGIN = 0.08
WHITE = (255, 255, 255)
# Measured on photos the project did not generate (README): never worse than the whole frame, far better
# on photos with a backdrop.
DEFAULT_QUERY_FRAMING = "centre+garment"


@dataclass(frozen=True)
class Framing:
    """The views a query photo is embedded as, e.g. ``Framing.parse("centre+garment")``."""

    views: tuple[str, ...] = ("whole",)

    @classmethod
    def parse(cls, text: str) -> Framing:
        views = tuple(part.strip() for part in text.split("+") if part.strip())
        unknown = [view for view in views if view not in VIEWS]
        if not views or unknown:
            raise ValueError(f"query framing must be views from {', '.join(VIEWS)} joined by '+', got {text!r}")
        return cls(views)

    @property
    def needs_garment(self) -> bool:
        return any(view in ("garment", "cutout") for view in self.views)

    def __str__(self) -> str:
        return "+".join(self.views)

    def frame(self, images: Sequence[Image.Image], locator: GarmentLocator | None = None,
              masks: Sequence[np.ndarray | None] | None = None) -> list[Image.Image]:
        """Each image's views, image by image (``len(images) * len(self.views)`` pictures); ``masks``: the images'
        garment masks when the caller has them already (they are then not computed again)."""
        if masks is None:
            masks = list(locator.masks(images)) if self.needs_garment and locator is not None else [None] * len(images)
        return [frame_view(image, view, mask) for image, mask in zip(images, masks, strict=True)
                for view in self.views]


def frame_view(image: Image.Image, view: str, mask: np.ndarray | None = None) -> Image.Image:
    """One view of ``image``; ``mask`` is its garment mask (``GarmentLocator.masks``) for the garment views."""
    if view == "whole":
        return image
    if view == "mirror":
        return ImageOps.mirror(image)
    garment = garment_of(mask) if mask is not None and view in ("garment", "cutout") else None
    if garment is not None and garment.confidence >= CONFIDENT:
        if view == "cutout" and mask is not None:
            image = on_white(image, mask)
        return pad_to_square(image.crop(garment.pixels(image.size, GARMENT_MARGIN)))
    if view in ("centre", "garment", "cutout"):
        return centre_crop(image)
    raise ValueError(f"unknown view {view!r}")


def on_white(image: Image.Image, mask: np.ndarray) -> Image.Image:
    alpha = Image.fromarray((np.clip(mask, 0, 1) * 255).astype(np.uint8)).resize(image.size,
                                                                                 Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", image.size, WHITE)
    canvas.paste(image, mask=alpha)
    return canvas


def centre_crop(image: Image.Image, share: float = CENTRE_CROP) -> Image.Image:
    width, height = image.size
    side = min(width, height) * share
    left, top = (width - side) / 2, (height - side) / 2
    return image.crop((round(left), round(top), round(left + side), round(top + side)))


def pad_to_square(image: Image.Image, fill: tuple[int, int, int] = WHITE) -> Image.Image:
    """The image centred on a square canvas, so the squash to the model's input keeps its proportions."""
    width, height = image.size
    side = max(width, height)
    if width == height:
        return image
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def average_views(features: np.ndarray, views: int) -> np.ndarray:
    """(N × views, D) features, image by image → (N, D): the mean direction of each image's views, at their
    mean length, so a head sees features of the usual size."""
    if views == 1:
        return features
    grouped = np.asarray(features, np.float32).reshape(-1, views, features.shape[1])
    lengths = np.linalg.norm(grouped, axis=2, keepdims=True)
    mean = (grouped / np.maximum(lengths, 1e-12)).mean(axis=1)
    direction = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    return (direction * lengths.mean(axis=1)).astype(np.float32, copy=False)


def framing_for(requested: str, head_training: dict | None) -> str:
    """"auto": the framing the head was trained on (``head_training``: its training record), else the default;
    anything else as given."""
    if requested != AUTO_FRAMING:
        return requested
    return (head_training or {}).get("query_framing") or DEFAULT_QUERY_FRAMING
