"""Photos as phones save them, made from the demo's real photos: big JPEGs for the decode and bot tests."""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageChops

from recommender.settings import DEMO_PHOTOS

PHONE_SIDES = (8000, 6000)  # 48 MP, what many phones save by default


@functools.lru_cache(maxsize=4)  # several test modules send the same photo; making one takes a second or two
def phone_photo(name: str = "tshirt-1882.jpg", *, progressive: bool = False, orientation: int = 1) -> bytes:
    """A demo photo as a 48 MP phone JPEG (quality 90, about 8 MB): enlarged to 8000×6000 (6000×8000 when
    upright), with sensor-like grain so it compresses as a camera's file does, not as a flat upscale (2 MB).
    ``orientation``: the EXIF tag; with 6 or 8 the pixels are stored sideways, as a phone held upright does."""
    source = Image.open(DEMO_PHOTOS / name).convert("RGB")
    long_side, short_side = PHONE_SIDES
    size = (long_side, short_side) if source.width >= source.height else (short_side, long_side)
    image = source.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 3.5).convert("RGB")  # Gaussian around 128
    image = ImageChops.add(image, grain, scale=1.0, offset=-128)
    if orientation in (6, 8):  # stored turned a quarter; the tag tells viewers how to turn it back
        image = image.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, progressive=progressive, exif=exif.tobytes())
    return out.getvalue()
