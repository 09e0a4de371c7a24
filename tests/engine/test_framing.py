"""Framing a user's photo: which views, what each crops, how views are averaged, and the real garment mask."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.framing import Framing, average_views, centre_crop, frame_view, pad_to_square
from engine.garment import CONFIDENT, Garment, GarmentLocator, garment_of


def photo_with_garment(size=(400, 300), box=(220, 60, 360, 260)) -> Image.Image:
    """A red 'garment' off-centre on a grey, textured floor."""
    rng = np.random.default_rng(0)
    floor = (rng.normal(120, 12, (size[1], size[0], 1)) + np.zeros(3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(floor)
    ImageDraw.Draw(image).rectangle(box, fill=(200, 30, 40))
    return image


def mask_for(size, box, value=0.95) -> np.ndarray:
    """A 160×160 garment mask (any size works) with ``value`` inside ``box`` (pixels of an image of ``size``)."""
    mask = np.zeros((160, 160), np.float32)
    left, top, right, bottom = (int(box[0] / size[0] * 160), int(box[1] / size[1] * 160),
                                int(box[2] / size[0] * 160), int(box[3] / size[1] * 160))
    mask[top:bottom, left:right] = value
    return mask


def test_framing_parses_views_and_refuses_unknown_ones():
    assert Framing.parse("centre+garment").views == ("centre", "garment")
    assert str(Framing.parse(" whole ")) == "whole"
    assert Framing.parse("cutout").needs_garment and not Framing.parse("whole+mirror").needs_garment
    for bad in ("", "zoom", "whole+zoom", "+"):
        with pytest.raises(ValueError, match="query framing"):
            Framing.parse(bad)


def test_centre_crop_keeps_the_middle_square():
    image = photo_with_garment()
    crop = centre_crop(image)
    assert crop.size == (262, 262)  # 0.875 of the shorter side


def test_pad_to_square_centres_on_white():
    padded = pad_to_square(Image.new("RGB", (40, 100), (0, 0, 0)))
    assert padded.size == (100, 100)
    assert padded.getpixel((5, 50)) == (255, 255, 255) and padded.getpixel((50, 50)) == (0, 0, 0)


def test_the_garment_view_crops_to_the_mask_with_a_margin_and_the_cutout_whitens_the_rest():
    image, box = photo_with_garment(), (220, 60, 360, 260)
    mask = mask_for(image.size, box)
    garment = frame_view(image, "garment", mask)
    # 140×200 garment + 8 % margin each side, padded square: mostly red, none of the far-left floor.
    assert garment.width == garment.height and 200 <= garment.height <= 240
    pixels = np.asarray(garment)
    assert (pixels[..., 0] > 150).mean() > 0.45
    cutout = np.asarray(frame_view(image, "cutout", mask))
    floor = (np.abs(cutout.astype(int) - 120).max(axis=-1) < 40).mean()
    assert floor < 0.02  # the floor around the garment turned white


def test_an_unsure_or_empty_mask_falls_back_to_the_centre():
    image, box = photo_with_garment(), (220, 60, 360, 260)
    unsure = mask_for(image.size, box, value=CONFIDENT - 0.25)
    assert frame_view(image, "garment", unsure).size == centre_crop(image).size
    assert frame_view(image, "garment", np.zeros((160, 160), np.float32)).size == centre_crop(image).size
    assert frame_view(image, "garment", None).size == centre_crop(image).size
    assert garment_of(np.zeros((160, 160), np.float32)) is None


def test_garment_box_in_pixels_is_clamped_to_the_image():
    assert Garment((0.0, 0.1, 0.5, 1.0), 0.9).pixels((200, 100), margin=0.1) == (0, 1, 110, 100)


def test_frame_gives_each_image_its_views_in_order():
    images = [photo_with_garment(), Image.new("RGB", (50, 80), "blue")]
    views = Framing.parse("whole+mirror").frame(images)
    assert len(views) == 4 and views[0] is images[0] and views[2] is images[1]


def test_views_average_to_their_mean_direction_at_their_mean_length():
    features = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]], np.float32)
    averaged = average_views(features, 2)
    assert averaged.shape == (2, 2)
    assert np.allclose(averaged[0], np.array([1.0, 1.0]) / 2 ** 0.5 * 2.0)
    assert np.allclose(averaged[1], np.array([1.0, 1.0]) / 2 ** 0.5 * (2 ** 0.5 + 8 ** 0.5) / 2)
    assert average_views(features, 1) is features


@pytest.mark.slow
@pytest.mark.parametrize("model", ["student", "u2netp"])
def test_each_garment_model_finds_a_real_shoe_and_little_in_noise(test_data, model):
    locator = GarmentLocator.load(model, threads=1)
    with Image.open(test_data / "shoe.jpg") as source:
        shoe = source.convert("RGB")
    canvas = Image.new("RGB", (shoe.width * 2, shoe.height * 2), (235, 235, 230))
    canvas.paste(shoe, (shoe.width, shoe.height // 2))
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8))
    found, in_noise = locator.locate([canvas, noise])
    assert found is not None and found.confidence >= CONFIDENT
    left, top, right, bottom = found.box
    assert left >= 0.4 and right >= 0.9 and top >= 0.15 and bottom <= 0.85  # the shoe's quarter of the frame
    assert in_noise is None or in_noise.confidence < found.confidence
    assert locator.masks([]).shape == (0, locator.size, locator.size)


def test_the_student_and_its_teacher_keep_feature_caches_apart():
    student, teacher = GarmentLocator.load("student", threads=1), GarmentLocator.load("u2netp", threads=1)
    assert (student.model, student.size) == ("student", 32)
    assert student.key.startswith("student192-") and student.key == GarmentLocator.load("student", threads=1).key
    assert (teacher.model, teacher.size, teacher.key) == ("u2netp", 128, "128")  # the key caches always had
    with pytest.raises(ValueError, match="student"):
        GarmentLocator.load("rembg")
