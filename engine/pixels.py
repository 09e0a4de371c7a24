"""A model's input from a decoded image, in numpy alone: the numbers of a squash-resize data config and the
resize and normalisation they call for. Torch-free, so decode threads start no OpenMP teams and an ONNX Runtime
engine preprocesses without PyTorch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class TensorPreprocess:
    """The numbers of a squash-resize data config: output size, interpolation, mean and std."""

    size: tuple[int, int]  # (height, width)
    interpolation: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def from_data_config(cls, data_config: dict[str, Any]) -> TensorPreprocess:
        if data_config.get("crop_mode") != "squash" or float(data_config.get("crop_pct", 1.0)) != 1.0:
            raise ValueError(f"tensor preprocessing needs crop_mode='squash' and crop_pct=1.0, got {data_config}")
        _, height, width = data_config["input_size"]
        interpolation = data_config.get("interpolation", "bilinear")
        if interpolation not in ("bilinear", "bicubic"):
            interpolation = "bilinear"
        return cls((int(height), int(width)), interpolation, tuple(data_config["mean"]), tuple(data_config["std"]))

    def pil_to_array(self, image: Image.Image) -> np.ndarray:
        """RGB PIL image → normalised (H, W, 3) float32, in numpy (no torch threads off the main thread)."""
        resample = Image.Resampling.BICUBIC if self.interpolation == "bicubic" else Image.Resampling.BILINEAR
        height, width = self.size
        if image.size != (width, height):
            image = image.resize((width, height), resample)
        array = np.asarray(image, dtype=np.float32)
        scale = np.asarray([1 / (255.0 * s) for s in self.std], dtype=np.float32)
        shift = np.asarray([m / s for m, s in zip(self.mean, self.std, strict=True)], dtype=np.float32)
        array *= scale
        array -= shift
        return array


def border_connected(inside: np.ndarray) -> np.ndarray:
    """The pixels of the boolean mask ``inside`` that a 4-neighbour path within it joins to the image's border: a
    backdrop, without the garment's own pixels of the backdrop's colour that the garment encloses."""
    reached = np.zeros_like(inside)
    reached[[0, -1], :], reached[:, [0, -1]] = inside[[0, -1], :], inside[:, [0, -1]]
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= inside
        if np.array_equal(grown, reached):
            return reached
        reached = grown
