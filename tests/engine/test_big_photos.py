"""Big phone photos (48 MP JPEGs sent as files) are decoded at a reduced DCT scale, upright and in bounded
memory; what cannot be decoded smaller (PNG, GIF, progressive JPEG) is still refused over the pixel limit."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from engine import ImageDecodeError, ImageProblem, decode_image
from engine.preprocess import DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, jpeg_scale
from engine.tensor_decode import TensorPreprocess, decode_batch, jpeg_fast_path_ok
from recommender.settings import DEMO_PHOTOS
from tests.auxil.memory import peak_growth
from tests.auxil.photos import phone_photo

FULL_DECODE = 8000 * 6000 * 3  # bytes of RGB a full decode of a 48 MP photo would hold: 144 MB


@pytest.mark.parametrize(("size", "max_pixels", "min_side", "scale"), [
    ((8000, 6000), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, 4),  # 48 MP → 2000×1500
    ((6000, 8000), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, 4),
    ((12000, 9000), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, 8),  # 108 MP → 1500×1125
    ((16320, 12240), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, 8),  # 200 MP → 2040×1530
    ((4000, 3000), DEFAULT_MAX_PIXELS, None, 1),  # 12 MP: decoded whole, as always
    ((1080, 1440), DEFAULT_MAX_PIXELS, 448, 2),  # the CPU path's draft at twice the input size
    ((300, 200), DEFAULT_MAX_PIXELS, 448, 1),  # smaller than asked: whole
    ((65500, 1100), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, 2),  # a panorama: reduced further to fit the limit
    ((65535, 65535), DEFAULT_MAX_PIXELS, LARGE_JPEG_SIDE, None),  # 67 MP even at 1/8: refused
])
def test_jpeg_scale(size, max_pixels, min_side, scale):
    assert jpeg_scale(size, max_pixels, min_side) == scale


def test_a_48_mp_phone_photo_decodes_at_a_quarter_in_bounded_memory():
    data = phone_photo()
    assert 6_000_000 < len(data) < 20 * 2**20  # what a phone saves, and under the Bot API's download limit
    image, growth = peak_growth(lambda: decode_image(data))
    assert image.mode == "RGB" and image.size == (1500, 2000)  # 6000×8000 at 1/4: short side ≥ 1024
    if growth is not None:  # Linux: the decode never held the full-size image
        assert growth < FULL_DECODE / 4, f"the decode peaked {growth / 1e6:.0f} MB higher"
    # The real photo's pixels, only smaller: the demo photo's colours where they were.
    source = Image.open(DEMO_PHOTOS / "tshirt-1882.jpg").convert("RGB")
    difference = np.abs(np.asarray(image.resize(source.size), np.float32) - np.asarray(source, np.float32))
    assert difference.mean() < 12


def test_the_cpu_path_draft_still_applies_to_big_photos():
    assert decode_image(phone_photo(), draft_size=448).size == (750, 1000)  # 1/8: both sides ≥ 448


def test_exif_orientation_is_applied_to_a_photo_decoded_smaller():
    stored_sideways = phone_photo(orientation=6)
    assert Image.open(io.BytesIO(stored_sideways)).size == (8000, 6000)
    upright = decode_image(stored_sideways)
    assert upright.size == (1500, 2000)
    reference = np.asarray(decode_image(phone_photo()), np.float32)
    assert np.abs(np.asarray(upright, np.float32) - reference).mean() < 6  # the same picture, the right way up


def test_a_multi_picture_jpeg_decodes_smaller_too():
    """Phones save MPO (a JPEG with a second picture after it); PIL opens it as MPO, not JPEG."""
    first, second = (Image.new("RGB", (8000, 6000), colour) for colour in ((200, 30, 30), (30, 30, 200)))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second], quality=80)
    image = decode_image(out.getvalue())
    assert image.size == (2000, 1500) and image.getpixel((10, 10))[0] > 150


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_formats_that_cannot_be_decoded_smaller_are_still_refused_over_the_limit(fmt):
    out = io.BytesIO()
    Image.new("L" if fmt == "PNG" else "P", (8000, 6000), 7).save(out, fmt)  # a few KB claiming 48 MP
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ImageDecodeError, match="too large") as refused:
        decode_image(out.getvalue())
    assert refused.value.kind is ImageProblem.TOO_LARGE


def test_a_progressive_jpeg_over_the_limit_is_refused():
    """libjpeg keeps all of a progressive JPEG's coefficients whatever the scale (144 MB for 48 MP): as costly
    as a full decode, so the pixel limit counts its full size."""
    data = phone_photo(progressive=True)
    outcome, growth = peak_growth(lambda: _refusal(data))
    assert outcome.kind is ImageProblem.TOO_LARGE and "6000×8000" in str(outcome)
    if growth is not None:
        assert growth < 20_000_000  # refused from the header, before any pixel was decoded


def test_a_progressive_jpeg_within_the_limit_still_decodes_smaller_when_asked():
    out = io.BytesIO()
    Image.new("RGB", (1080, 1440), (120, 30, 200)).save(out, "JPEG", progressive=True)
    assert decode_image(out.getvalue(), draft_size=448).size == (540, 720)


def test_the_tensor_path_hands_big_photos_to_the_reduced_decode(engine):
    """decode_jpeg (nvJPEG on CUDA) cannot decode smaller: a 48 MP photo takes the PIL path at 1/4."""
    data = phone_photo()
    assert not jpeg_fast_path_ok(data)
    preprocess = TensorPreprocess.from_data_config(engine.data_config)
    batch, errors = decode_batch([data, phone_photo(progressive=True)], preprocess, device=torch.device("cpu"))
    assert errors[0] is None and errors[1] is not None and errors[1].kind is ImageProblem.TOO_LARGE
    assert batch.shape == (1, 3, *preprocess.size) and batch.isfinite().all()


def _refusal(data: bytes) -> ImageDecodeError:
    with pytest.raises(ImageDecodeError) as refused:
        decode_image(data)
    return refused.value
