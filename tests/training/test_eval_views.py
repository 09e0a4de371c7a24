"""The independent generator: deterministic, phone-like sizes and formats, and really not the catalog image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from training.eval_views import PRESETS, eval_photo, eval_photo_bytes
from training.views import user_view

from .test_views import product_image


@pytest.mark.parametrize("preset", PRESETS)
def test_same_seed_same_photo_other_seed_other_photo(preset):
    image = product_image()
    assert eval_photo_bytes(image, np.random.default_rng(1), preset) == eval_photo_bytes(
        image, np.random.default_rng(1), preset)
    assert eval_photo_bytes(image, np.random.default_rng(1), preset) != eval_photo_bytes(
        image, np.random.default_rng(2), preset)


@pytest.mark.parametrize("preset", PRESETS)
def test_photos_are_phone_sized_compressed_rgb(preset):
    formats, sizes = set(), set()
    for seed in range(12):
        data = eval_photo_bytes(product_image(), np.random.default_rng(seed), preset)
        with Image.open(io.BytesIO(data)) as photo:
            formats.add(photo.format)
            sizes.add(max(photo.size))
            assert photo.mode == "RGB"
    assert formats <= {"JPEG", "WEBP"} and "JPEG" in formats
    assert min(sizes) >= 360 and max(sizes) <= 900


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="preset"):
        eval_photo(product_image(), np.random.default_rng(0), "medium")


def test_photos_differ_from_the_training_generator_and_from_the_packshot():
    image = product_image((120, 160))
    mine = np.asarray(eval_photo(image, np.random.default_rng(3), "easy").resize((60, 80)), np.float32)
    theirs = np.asarray(user_view(image, np.random.default_rng(3), "easy").resize((60, 80)), np.float32)
    packshot = np.asarray(image.resize((60, 80)), np.float32)
    assert np.abs(mine - theirs).mean() > 10 and np.abs(mine - packshot).mean() > 10


def test_a_picture_without_a_white_backdrop_is_taken_whole():
    busy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 60, 3), dtype=np.uint8))
    photo = eval_photo(busy, np.random.default_rng(0), "easy")
    assert photo.size[0] >= 360 or photo.size[1] >= 360
