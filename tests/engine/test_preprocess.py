"""Decoding awkward real files: every mode to upright RGB, clear errors for everything unusable."""

from __future__ import annotations

import pytest

from engine import ImageDecodeError, decode_image


@pytest.mark.parametrize("name", ["shoe.jpg", "cmyk.jpg", "rgba.png", "grayscale.png", "gray16.png",
                                  "palette.gif", "shoe.webp"])
def test_every_colour_mode_decodes_to_rgb(test_data, name):
    image = decode_image((test_data / name).read_bytes())
    assert image.mode == "RGB"
    assert image.size == (60, 80)


def test_exif_orientation_is_applied(test_data):
    stored_sideways = decode_image((test_data / "exif-rotated.jpg").read_bytes())
    assert stored_sideways.size == (60, 80)  # stored 80×60, shown upright


def test_transparency_becomes_white(test_data):
    corner = decode_image((test_data / "rgba.png").read_bytes()).getpixel((0, 0))
    assert min(corner) > 240


@pytest.mark.parametrize(("name", "words"), [
    ("not-an-image.txt", "not an image"),
    ("truncated.jpg", "damaged or incomplete"),
    ("bomb.png", "too large"),
])
def test_unusable_files_raise_a_clear_error(test_data, name, words):
    with pytest.raises(ImageDecodeError, match=words):
        decode_image((test_data / name).read_bytes())


def test_empty_bytes_and_custom_pixel_limit(test_data):
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image((test_data / "shoe.jpg").read_bytes(), max_pixels=60 * 80 - 1)
