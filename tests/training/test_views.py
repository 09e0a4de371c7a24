"""User-like views: deterministic per seed, the right size and mode, any input mode, really changed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training.views import _cut_out, user_view, user_view_jpeg

DEMO_IMAGES = Path(__file__).resolve().parents[2] / "demo" / "images"
PRESETS = ["easy", "hard"]


def product_image(size=(60, 80)) -> Image.Image:
    """A thumbnail-like product: a red garment with a white, outlined panel on a white background."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w * 0.2, h * 0.15, w * 0.8, h * 0.9), fill=(200, 30, 40))
    draw.rectangle((w * 0.35, h * 0.3, w * 0.65, h * 0.6), fill=(250, 250, 250), outline=(90, 90, 90))
    return image


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("preset", PRESETS)
def test_same_seed_same_photo_other_seed_other_photo(preset):
    image = product_image()
    assert user_view_jpeg(image, rng(1), preset) == user_view_jpeg(image, rng(1), preset)
    assert user_view_jpeg(image, rng(1), preset) != user_view_jpeg(image, rng(2), preset)


@pytest.mark.parametrize("preset", PRESETS)
def test_user_view_is_the_decoded_jpeg(preset):
    image = product_image()
    decoded = Image.open(io.BytesIO(user_view_jpeg(image, rng(3), preset)))
    assert decoded.format == "JPEG"
    assert np.array_equal(np.asarray(user_view(image, rng(3), preset)), np.asarray(decoded.convert("RGB")))


@pytest.mark.parametrize(("preset", "low", "high"), [("easy", 480, 480), ("hard", 320, 480)])
def test_default_size_follows_the_preset(preset, low, high):
    for seed in range(4):
        photo = user_view(product_image(), rng(seed), preset)
        assert photo.mode == "RGB"
        assert low <= photo.height <= high
        assert photo.width == round(photo.height * 3 / 4)  # a tall product gives a portrait photo


@pytest.mark.parametrize("preset", PRESETS)
def test_size_is_the_long_side_and_wide_products_give_landscape(preset):
    assert user_view(product_image((60, 80)), rng(), preset, size=400).size == (300, 400)
    assert user_view(product_image((80, 40)), rng(), preset, size=400).size == (400, 300)


@pytest.mark.parametrize("preset", PRESETS)
def test_photo_differs_from_the_catalog_image(preset):
    image = Image.open(DEMO_IMAGES / "1882.jpg")
    photo = user_view(image, rng(), preset, size=320)
    catalog = np.asarray(image.convert("RGB").resize(photo.size), np.float32)
    assert np.abs(np.asarray(photo, np.float32) - catalog).mean() > 20


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "LA", "CMYK"])
def test_any_input_mode_gives_an_rgb_photo(preset, mode):
    photo = user_view(product_image().convert(mode), rng(), preset, size=200)
    assert (photo.mode, photo.size) == ("RGB", (150, 200))


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (60, 80), "white"),  # nothing but background
        Image.new("RGBA", (60, 80), (0, 0, 0, 0)),  # nothing at all
        Image.new("RGB", (1, 1), "red"),
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 600, 3), dtype=np.uint8)),
    ],
    ids=["white", "transparent", "one-pixel", "large-noise"],
)
def test_awkward_inputs_still_give_a_photo(image):
    assert user_view(image, rng(), "hard", size=160).size == (120, 160)


def test_cut_out_removes_the_background_but_keeps_white_inside_the_product():
    product = _cut_out(product_image())
    alpha = np.asarray(product.getchannel("A"))
    assert product.size[0] < 60 and product.size[1] < 80  # cropped to the product
    assert alpha[alpha.shape[0] // 2, alpha.shape[1] // 2] == 255  # the outlined white panel stays
    assert alpha[0, 0] < 255 and alpha[-1, -1] < 255  # soft edge where the background was


def test_cut_out_honours_the_input_alpha():
    image = Image.new("RGBA", (60, 80), (0, 255, 0, 0))  # transparent, whatever its colour
    ImageDraw.Draw(image).ellipse((10, 10, 50, 70), fill=(0, 0, 200, 255))
    product = _cut_out(image)
    assert 36 <= product.width <= 42 and 56 <= product.height <= 62


@pytest.mark.parametrize(("preset", "size"), [("medium", None), ("easy", 8)])
def test_bad_arguments_are_named(preset, size):
    with pytest.raises(ValueError, match="medium" if size is None else "8"):
        user_view(product_image(), rng(), preset, size=size)
