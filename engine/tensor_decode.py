"""Batched JPEG decode, resize and normalise as tensors on the engine's device (nvJPEG on CUDA).

Plain upright RGB/grayscale JPEGs go through ``torchvision.io.decode_jpeg`` as one batch; everything
else (PNG, WebP, CMYK, EXIF-rotated, damaged, over the pixel limit) goes through :func:`decode_image`, so the
safety rules stay in one place: it decodes a JPEG over the limit (a 48 MP photo) at a reduced DCT scale, which
decode_jpeg cannot. Resizing follows the model's data config the way timm's eval transform
does for ``crop_mode='squash', crop_pct=1.0``: straight to the input size, antialiased.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .pixels import TensorPreprocess
from .preprocess import DEFAULT_MAX_PIXELS, ImageDecodeError, decode_image, open_image

log = logging.getLogger(__name__)

_ORIENTATION = 0x0112
_DIRECT_MODES = ("RGB", "L")


def normalise(preprocess: TensorPreprocess, images: list[torch.Tensor]) -> torch.Tensor:
    """uint8 (3, h, w) images of any sizes → one normalised (N, 3, H, W) float batch, channels_last."""
    height, width = preprocess.size
    device = images[0].device
    out = torch.empty((len(images), 3, height, width), dtype=torch.float32, device=device,
                      memory_format=torch.channels_last)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for position, image in enumerate(images):
        by_shape.setdefault(tuple(image.shape), []).append(position)
    for shape, positions in by_shape.items():  # catalog photos mostly share a size: one resize call
        group = torch.stack([images[p] for p in positions]).float()
        if shape[1:] != (height, width):
            group = F.interpolate(group, size=(height, width), mode=preprocess.interpolation, antialias=True,
                                  align_corners=False)
        out[positions] = group
    mean = torch.tensor(preprocess.mean, device=device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(preprocess.std, device=device).view(1, 3, 1, 1) * 255.0
    # PIL's resize clamps and rounds to uint8; the models notice the difference (cosine 0.96 vs 0.9997
    # on 1080x1440 photos), so do the same.
    return out.clamp_(0.0, 255.0).round_().sub_(mean).div_(std)


def jpeg_fast_path_ok(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> bool:
    """Whether the tensor decoder can take these bytes as they are: an upright RGB/gray JPEG within size.

    Reads only the header (PIL parses markers and EXIF without decoding pixels).
    """
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return False
    try:
        with open_image(data) as image:
            width, height = image.size
            return (image.format == "JPEG" and image.mode in _DIRECT_MODES and width * height <= max_pixels
                    and image.getexif().get(_ORIENTATION, 1) == 1)
    except Exception:  # anything odd in the header: let the careful path decide and explain
        return False


def decode_batch(blobs: Sequence[bytes], preprocess: TensorPreprocess, *, device: torch.device | str = "cpu",
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[torch.Tensor, list[ImageDecodeError | None]]:
    """Decode, resize and normalise ``blobs`` on ``device``.

    Returns a (n_ok, 3, H, W) float batch on ``device`` (rows in input order, failures left out) and one
    entry per blob: None when it is in the batch, else the :class:`ImageDecodeError` explaining why not.
    """
    device = torch.device(device)
    images: list[torch.Tensor | None] = [None] * len(blobs)
    errors: list[ImageDecodeError | None] = [None] * len(blobs)
    fast = [i for i, blob in enumerate(blobs) if jpeg_fast_path_ok(blob, max_pixels)]
    if fast:
        encoded = [torch.frombuffer(bytearray(blobs[i]), dtype=torch.uint8) for i in fast]
        try:
            decoded = _decode_jpeg(encoded, device)
        except RuntimeError:  # one bad file fails the batched call; find it one by one
            decoded = [_decode_one(data, device) for data in encoded]
        for i, image in zip(fast, decoded, strict=True):
            images[i] = image
    for i, blob in enumerate(blobs):
        if images[i] is not None:
            continue
        try:
            image = decode_image(blob, max_pixels)
        except ImageDecodeError as error:
            errors[i] = error
            continue
        tensor = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)
        if device.type == "cuda":
            tensor = tensor.pin_memory()
        images[i] = tensor.to(device, non_blocking=True)
    ready = [image for image in images if image is not None]
    if not ready:
        height, width = preprocess.size
        return torch.zeros((0, 3, height, width), device=device), errors
    return normalise(preprocess, ready), errors


def _decode_jpeg(data, device: torch.device):
    # torchvision 0.29 deprecates its image codecs in favour of TorchCodec; they still work (and nvJPEG is
    # the point here), so the warning is not repeated on every batch.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import ImageReadMode, decode_jpeg

        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)


def _decode_one(data: torch.Tensor, device: torch.device) -> torch.Tensor | None:
    try:
        return _decode_jpeg(data, device)
    except RuntimeError as error:
        log.debug("tensor JPEG decode failed (%s); the PIL path will explain", error)
        return None
