"""Decoding awkward real files: every mode to upright RGB, clear errors for everything unusable."""

from __future__ import annotations

import pickle

import pytest

from engine import ImageDecodeError, ImageProblem, decode_image


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


@pytest.mark.parametrize(("name", "kind", "words"), [
    ("not-an-image.txt", ImageProblem.NOT_IMAGE, "not an image"),
    ("truncated.jpg", ImageProblem.DAMAGED, "damaged or incomplete"),
    ("bomb.png", ImageProblem.TOO_LARGE, "too large"),
])
def test_unusable_files_raise_an_error_of_their_kind(test_data, name, kind, words):
    with pytest.raises(ImageDecodeError, match=words) as refused:
        decode_image((test_data / name).read_bytes())
    assert refused.value.kind is kind


def test_empty_bytes_and_custom_pixel_limit(test_data):
    with pytest.raises(ImageDecodeError, match="empty") as empty:
        decode_image(b"")
    assert empty.value.kind is ImageProblem.EMPTY
    with pytest.raises(ImageDecodeError, match="too large") as large:
        decode_image((test_data / "rgba.png").read_bytes(), max_pixels=60 * 80 - 1)
    assert large.value.kind is ImageProblem.TOO_LARGE
    # A JPEG over the limit is decoded at a reduced DCT scale instead, within the limit.
    assert decode_image((test_data / "shoe.jpg").read_bytes(), max_pixels=60 * 80 - 1).size == (30, 40)


def test_a_decode_error_keeps_its_kind_across_processes(test_data):
    with pytest.raises(ImageDecodeError) as refused:
        decode_image((test_data / "truncated.jpg").read_bytes())
    copy = pickle.loads(pickle.dumps(refused.value))
    assert (copy.kind, str(copy)) == (ImageProblem.DAMAGED, str(refused.value))
