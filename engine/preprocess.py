"""Safe image decoding and the model's own preprocessing (from timm's data config)."""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from .config import DEFAULT_MAX_PIXELS

if TYPE_CHECKING:
    import torch

# A JPEG over that limit (a 48–200 MP phone photo sent as a file) is decoded at the strongest DCT reduction
# that keeps its short side at least this long, i.e. 1024–2047 px: 8000×6000 → 2000×1500, 9 MB of RGB instead
# of 144. The model's input is 224 px: the centre view (87.5 % of the short side) keeps ≥ 4× that, and a garment
# box a quarter of the short side wide ≥ 256 px, so the views are still shrunk to the input, never enlarged.
LARGE_JPEG_SIDE = 1024
DCT_SCALES = (1, 2, 4, 8)  # what libjpeg can decode at: 1/1, 1/2, 1/4, 1/8
_SOI = b"\xff\xd8\xff"


class ImageProblem(StrEnum):
    """Why an image is unusable; each front door words each kind in the user's language (chat.replies)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"  # more pixels than max_pixels, even at the smallest scale it can be decoded at
    NOT_IMAGE = "not_image"  # no format we read
    DAMAGED = "damaged"  # truncated or corrupt


class ImageDecodeError(ValueError):
    """The bytes are not an image we can use: ``kind`` says why; ``str(error)`` is the detail, in English."""

    def __init__(self, kind: ImageProblem, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind

    def __reduce__(self) -> tuple[type[ImageDecodeError], tuple[ImageProblem, str]]:  # to worker processes and back
        return type(self), (self.kind, str(self))


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, draft_size: int | None = None) -> Image.Image:
    """Decode bytes into an upright RGB image, refusing non-images, truncated files and pixel bombs.

    ``max_pixels`` bounds what the decode holds. A JPEG is decoded at a reduced DCT scale (1/2, 1/4, 1/8):
    with ``draft_size``, the smallest that keeps both sides at least ``draft_size`` pixels (much cheaper for
    photos far larger than the model's input); without, only when the full image is over the limit, then
    the smallest keeping the short side ≥ :data:`LARGE_JPEG_SIDE`. Other formats, and JPEGs whose decoder
    holds the whole image anyway (progressive, multi-scan), are refused over the limit.
    """
    if not data:
        raise ImageDecodeError(ImageProblem.EMPTY, "The file is empty.")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; we want one clear limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = open_image(data)
            if isinstance(image, JpegImagePlugin.JpegImageFile):  # MPO (phones' multi-picture JPEG) too
                _draft_within(image, data, max_pixels, draft_size)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(ImageProblem.TOO_LARGE, f"The image is too large ({width}×{height} pixels); "
                                                               f"the limit is {max_pixels / 1e6:.0f} megapixels.")
            image.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageDecodeError(ImageProblem.TOO_LARGE, "The image is too large in pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageDecodeError(ImageProblem.NOT_IMAGE,
                               "That file is not an image I can read (JPEG, PNG, WebP, GIF…).") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Truncated and corrupt files surface as OSError ("image file is truncated") or SyntaxError.
        raise ImageDecodeError(ImageProblem.DAMAGED,
                               "The image is damaged or incomplete; please send it again.") from error
    # in_place: without an orientation tag exif_transpose would return a full copy, one more image in memory.
    ImageOps.exif_transpose(image, in_place=True)
    return to_rgb(image)


def each_decodable(blobs: Sequence[bytes],
                   decode: Callable[[bytes], Any]) -> tuple[list, list[ImageDecodeError | None]]:
    """``decode`` of every blob that decodes, and per blob its error (None where it decoded): a bad photo in a
    batch is reported, the others go on."""
    results: list = []
    errors: list[ImageDecodeError | None] = []
    for blob in blobs:
        try:
            results.append(decode(blob))
            errors.append(None)
        except ImageDecodeError as error:
            errors.append(error)
    return results, errors


def open_image(data: bytes) -> Image.Image:
    """The image's header, pixels not yet decoded. A JPEG skips PIL's own bomb check, which counts its full
    size: what a JPEG decode holds is decided by :func:`decode_image`, at the scale it decodes at."""
    if not data.startswith(_SOI):
        return Image.open(io.BytesIO(data))
    try:
        return JpegImagePlugin.jpeg_factory(io.BytesIO(data))
    except (IndexError, TypeError, struct.error) as error:  # what Image.open also takes for a bad header
        raise SyntaxError(f"bad JPEG header: {error}") from error


def jpeg_scale(size: tuple[int, int], max_pixels: int, min_side: int | None) -> int | None:
    """The DCT scale denominator to decode a JPEG of ``size`` at: the largest that keeps both sides ≥
    ``min_side`` (1 without), raised until the decoded image fits ``max_pixels``; None when even 1/8 is over."""
    width, height = size
    floor = max((s for s in DCT_SCALES if min(width, height) // s >= min_side), default=1) if min_side else 1
    return next((s for s in DCT_SCALES if s >= floor and -(-width // s) * -(-height // s) <= max_pixels), None)


def _draft_within(image: JpegImagePlugin.JpegImageFile, data: bytes, max_pixels: int,
                  draft_size: int | None) -> None:
    """Set ``image`` to decode at :func:`jpeg_scale`; leave it whole when that is impossible or pointless
    (decode_image then refuses it if it is over the limit)."""
    width, height = image.size
    if _holds_whole_image(image, data) and width * height > max_pixels:
        return  # libjpeg keeps every DCT coefficient (2 bytes each) at any scale: the source size is the cost
    min_side = draft_size or (LARGE_JPEG_SIDE if width * height > max_pixels else None)
    scale = jpeg_scale((width, height), max_pixels, min_side)
    if scale and scale > 1:
        image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))


def _holds_whole_image(image: JpegImagePlugin.JpegImageFile, data: bytes) -> bool:
    """Whether libjpeg buffers the whole image's coefficients: a progressive JPEG, or one whose first scan
    does not interleave every component (libjpeg's ``has_multiple_scans``)."""
    if image.info.get("progressive") or image.info.get("progression"):
        return True
    in_scan = _first_scan_components(data)
    return in_scan is None or in_scan < image.layers


def _first_scan_components(data: bytes) -> int | None:
    """The component count (Ns) of a JPEG's first start-of-scan header; None when there is none to read."""
    position = 2
    while position + 4 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
        elif marker == 0xDA:
            return data[position + 4]
        else:
            position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return None


def to_rgb(image: Image.Image) -> Image.Image:
    """Flatten palette, alpha, CMYK, 16-bit and grayscale images onto RGB (transparency → white)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode == "P":
        # Only a palette with transparency needs the RGBA detour (a 4-byte-a-pixel image more in memory).
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        # Product photos with transparency are cut-outs: white is the catalog's own backdrop. RGB takes
        # RGBA and LA pixels as they are and the mask reads their alpha: no copies of a 40 MP image.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image)
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def inference_data_config(model: torch.nn.Module) -> dict[str, Any]:
    """timm's own data config for the model, with the whole image kept.

    Catalog shots fill the frame, so timm's default centre crop (crop_pct 0.875) cuts off toes and
    sleeves; 'squash' with crop_pct 1.0 keeps every pixel and treats catalog and photos alike.
    """
    from timm.data import resolve_model_data_config

    config = resolve_model_data_config(model)
    config.update(crop_pct=1.0, crop_mode="squash")
    return config


def build_transform(data_config: dict[str, Any]) -> Callable[[Image.Image], torch.Tensor]:
    """PIL image → normalised CHW float tensor, as timm builds it for evaluation."""
    from timm.data import create_transform

    return create_transform(**data_config, is_training=False)
