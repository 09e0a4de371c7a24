"""Safe image decoding and the model's own preprocessing (from timm's data config)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import torch
from PIL import Image, ImageOps, UnidentifiedImageError

# About 40 megapixels: a 48 MP phone photo is rejected, a 12 MP one is fine. Decompression bombs
# claim far more than this while being a few KB on the wire.
DEFAULT_MAX_PIXELS = 40_000_000


class ImageDecodeError(ValueError):
    """The bytes are not an image we can use; ``str(error)`` is fit to show a user."""


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, draft_size: int | None = None) -> Image.Image:
    """Decode bytes into an upright RGB image, refusing non-images, truncated files and pixel bombs.

    With ``draft_size``, a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that keeps both
    sides at least ``draft_size`` pixels: much cheaper for photos far larger than the model's input.
    """
    if not data:
        raise ImageDecodeError("The file is empty.")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; we want one clear limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"The image is too large ({width}×{height} pixels); the limit is "
                    f"{max_pixels / 1e6:.0f} megapixels."
                )
            if draft_size and image.format == "JPEG":
                image.draft(image.mode, (draft_size, draft_size))
            image.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageDecodeError("The image is too large in pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageDecodeError("That file is not an image I can read (JPEG, PNG, WebP, GIF…).") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Truncated and corrupt files surface as OSError ("image file is truncated") or SyntaxError.
        raise ImageDecodeError("The image is damaged or incomplete; please send it again.") from error
    # in_place: without an orientation tag exif_transpose would return a full copy, one more image in memory.
    ImageOps.exif_transpose(image, in_place=True)
    return to_rgb(image)


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
