"""Colour from pixels: CIELAB and CIEDE2000 against published values, names of known colours, light correction,
packshot backdrops, and the blend with the colour head."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.attributes import Attributes
from engine.colour import (
    PROTOTYPES,
    PixelColour,
    batch_pixels,
    blend,
    ciede2000,
    colour_probabilities,
    garment_palette,
    packshot_palette,
    srgb_to_lab,
)

LABELS = [*PROTOTYPES, "Multi"]

# Sharma, Wu & Dalal (2005), Table 1: every pair of the supplementary test data with its ΔE00.
SHARMA_PAIRS = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("first", "second", "expected"), SHARMA_PAIRS)
def test_ciede2000_matches_sharmas_test_data(first, second, expected):
    assert float(ciede2000(np.array(first), np.array(second))) == pytest.approx(expected, abs=5e-5)
    assert float(ciede2000(np.array(second), np.array(first))) == pytest.approx(expected, abs=5e-5)  # symmetric


def test_ciede2000_broadcasts_over_arrays():
    first = np.array([pair[0] for pair in SHARMA_PAIRS])
    second = np.array([pair[1] for pair in SHARMA_PAIRS])
    np.testing.assert_allclose(ciede2000(first, second), [pair[2] for pair in SHARMA_PAIRS], atol=5e-5)
    assert ciede2000(first[:, None, :], second[None, :, :]).shape == (len(first), len(second))


@pytest.mark.parametrize(("rgb", "lab"), [
    ((255, 255, 255), (100.0, 0.0, 0.0)),
    ((0, 0, 0), (0.0, 0.0, 0.0)),
    ((255, 0, 0), (53.24, 80.09, 67.20)),
    ((0, 0, 255), (32.30, 79.19, -107.86)),
    ((128, 128, 128), (53.59, 0.0, 0.0)),
])
def test_srgb_to_lab_gives_the_textbook_values(rgb, lab):
    np.testing.assert_allclose(srgb_to_lab(np.array(rgb)), lab, atol=0.05)


def packshot(rgb, backdrop=(255, 255, 255)) -> np.ndarray:
    """A 56×56 packshot grid: a garment of ``rgb`` in the middle of a studio backdrop."""
    pixels = np.full((56, 56, 3), backdrop, np.float64)
    pixels[8:48, 12:44] = rgb
    return pixels


def top(probabilities: np.ndarray | None) -> str:
    assert probabilities is not None
    return LABELS[int(np.argmax(probabilities))]


@pytest.mark.parametrize(("rgb", "name"), [
    ((200, 30, 40), "Red"), ((30, 35, 70), "Navy Blue"), ((70, 125, 200), "Blue"), ((20, 20, 20), "Black"),
    ((128, 128, 128), "Grey"), ((100, 110, 50), "Green"), ((240, 150, 180), "Pink"), ((112, 22, 36), "Maroon"),
    ((214, 196, 164), "Beige"), ((110, 70, 42), "Brown"), ((240, 120, 30), "Orange"), ((240, 212, 40), "Yellow"),
    ((102, 50, 132), "Purple"), ((64, 92, 132), "Blue"),
])
def test_known_colours_get_their_names(rgb, name):
    probabilities = colour_probabilities(packshot_palette(packshot(rgb)), LABELS)
    assert top(probabilities) == name
    assert probabilities is not None and probabilities[LABELS.index("Multi")] == 0  # no reference: the head's call
    assert probabilities.sum() == pytest.approx(1.0)


def test_a_white_product_on_a_white_backdrop_is_white_and_the_backdrop_never_counts():
    assert top(colour_probabilities(packshot_palette(packshot((250, 250, 250))), LABELS)) == "White"
    # a black shirt on white: the backdrop, touching the border, is left out however much of the frame it is
    palette = packshot_palette(packshot((20, 20, 20)))
    assert palette is not None and len(palette.shares) <= 3
    assert palette.names(LABELS)[0][0] == "Black" and palette.shares[0] > 0.95
    # a grey studio backdrop is removed the same way
    assert top(colour_probabilities(packshot_palette(packshot((200, 30, 40), backdrop=(180, 180, 180))),
                                    LABELS)) == "Red"


def test_white_inside_a_garment_is_kept_when_the_backdrop_is_removed():
    pixels = packshot((30, 35, 70))
    pixels[20:36, 20:36] = 255  # a white print enclosed by navy: not connected to the border
    palette = packshot_palette(pixels)
    assert palette is not None
    names = dict(palette.names(LABELS))
    assert names.get("Navy Blue", 0) > 0.6 and names.get("White", 0) > 0.15


def photo_with_garment(rgb, cast=(1.0, 1.0, 1.0), backdrop=128.0) -> tuple[Image.Image, np.ndarray]:
    """A garment on a flat backdrop under a coloured light (per-channel gains), with its 128-px mask."""
    pixels = np.full((300, 400, 3), backdrop)
    pixels[60:240, 150:260] = rgb
    pixels = np.clip(pixels * np.array(cast), 0, 255).astype(np.uint8)
    mask = np.zeros((128, 128), np.float32)
    mask[26:102, 48:83] = 0.95
    return Image.fromarray(pixels), mask


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_a_red_shirt_on_a_grey_floor_under_a_warm_light_is_red(strength):
    image, mask = photo_with_garment((200, 30, 40), cast=(1.25, 1.0, 0.75))
    assert top(colour_probabilities(garment_palette(image, mask, strength=strength), LABELS)) == "Red"


def test_correcting_the_light_on_the_backdrop_takes_a_warm_cast_off_a_white_shirt():
    image, mask = photo_with_garment((240, 240, 240), cast=(1.08, 1.0, 0.85))
    corrected = colour_probabilities(garment_palette(image, mask, strength=0.5), LABELS)
    as_taken = colour_probabilities(garment_palette(image, mask, strength=0.0), LABELS)
    assert corrected is not None and as_taken is not None
    whites = [LABELS.index("White"), LABELS.index("Off White")]
    assert corrected[whites].sum() > as_taken[whites].sum()
    assert top(as_taken) == "Cream" and top(corrected) in ("White", "Off White")


def test_the_arms_and_face_of_whoever_wears_a_black_tee_do_not_make_it_brown():
    image, mask = photo_with_garment((20, 20, 20))
    pixels = np.asarray(image).copy()
    pixels[60:120, 150:260] = (224, 172, 140)  # a face and arms inside the mask: a third of it
    probabilities = colour_probabilities(garment_palette(Image.fromarray(pixels), mask), LABELS)
    assert top(probabilities) == "Black"
    assert probabilities is not None and probabilities[LABELS.index("Black")] > 0.6
    # a garment that is mostly skin-coloured keeps its colour
    beige, beige_mask = photo_with_garment((214, 180, 150))
    assert top(colour_probabilities(garment_palette(beige, beige_mask), LABELS)) in ("Beige", "Peach")


def test_a_photo_without_a_usable_mask_gets_no_pixel_colour():
    image, _ = photo_with_garment((200, 30, 40))
    assert garment_palette(image, None) is None
    assert garment_palette(image, np.zeros((128, 128), np.float32)) is None
    assert colour_probabilities(None, LABELS) is None


def test_a_two_colour_garment_has_a_two_colour_palette():
    image, mask = photo_with_garment((20, 20, 20))
    pixels = np.asarray(image).copy()
    pixels[150:240, 150:260] = (250, 250, 250)  # the lower half white
    palette = garment_palette(Image.fromarray(pixels), mask)
    assert palette is not None
    shares = dict(palette.names(LABELS))
    assert shares.get("Black", 0) == pytest.approx(0.5, abs=0.1) and shares.get("White", 0) == pytest.approx(0.5,
                                                                                                             abs=0.1)


def test_blend_mixes_the_head_and_the_pixels():
    labels = ["Black", "Red", "Multi"]
    head = {"Black": 0.7, "Red": 0.1, "Multi": 0.2}
    pixels = np.array([0.0, 1.0, 0.0])
    assert blend(head, pixels, labels, 0.5) == pytest.approx({"Black": 0.35, "Red": 0.55, "Multi": 0.1})
    assert blend(head, None, labels, 0.5) == head
    assert blend(head, pixels, labels, 0.0) == head
    sharpened = blend(head, pixels, labels, 0.5, sharpness=2.0)  # (0.35², 0.55², 0.1²), renormalised
    assert sharpened == pytest.approx({"Black": 0.1225 / 0.435, "Red": 0.3025 / 0.435, "Multi": 0.01 / 0.435})


def test_pixel_colour_changes_only_the_colour_of_photos_it_can_read():
    pixel_colour = PixelColour(LABELS, photo_weight=0.5, packshot_weight=0.5)
    head = Attributes({"colour": dict.fromkeys(LABELS, 1 / len(LABELS)), "category": {"Tshirts": 1.0}})
    red, red_mask = photo_with_garment((200, 30, 40))
    blended = pixel_colour.blend_photos([head, head], [red, red], [red_mask, None])
    assert blended is not None
    assert blended[0].top("colour")[0] == "Red" and blended[0].probabilities["category"] == {"Tshirts": 1.0}
    assert blended[1] == head  # no mask: the head's colour stands
    assert pixel_colour.blend_photos([head], [red], None) == [head]
    assert pixel_colour.blend_photos(None, [red], [red_mask]) is None


def test_for_head_needs_a_colour_head_with_known_labels():
    assert PixelColour.for_head(None) is None
    assert PixelColour.for_head({"category": ["Tshirts"]}) is None
    assert PixelColour.for_head({"colour": ["Multi", "Polka"]}) is None
    found = PixelColour.for_head({"colour": LABELS})
    assert found is not None and found.labels == LABELS and found.fingerprint().startswith("1:")


def test_batch_pixels_undoes_the_models_normalisation_on_a_coarse_grid():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype(np.float32)
    batch = ((pixels / 255 - np.array(mean)) / np.array(std)).transpose(0, 3, 1, 2).astype(np.float32)
    coarse = batch_pixels(batch, mean, std, stride=4)
    assert coarse.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(coarse, pixels[:, ::4, ::4], atol=0.01)


@pytest.mark.slow
def test_both_engines_blend_pixel_colour_into_attributes_and_leave_vectors_alone(head_engine):
    from pathlib import Path

    from engine import EngineConfig, load_engine

    onnx_engine = load_engine(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", batch_size=16,
                                           artifact="auto", runtime="onnx"))
    demo = Path(__file__).resolve().parents[2] / "demo"
    photos = [head_engine.decode(path.read_bytes()) for path in sorted((demo / "photos").glob("*.jpg"))[:4]]
    packshots = [head_engine.decode(path.read_bytes()) for path in sorted((demo / "images").glob("*.jpg"))[:4]]
    for engine in (head_engine, onnx_engine):
        assert engine.pixel_colour is not None
        assert engine.fingerprint_fields["pixel_colour"] == engine.pixel_colour.fingerprint()
        vectors, attributes = engine.embed_photos(photos)
        plain_vectors, plain = engine.vectors_of(engine.photo_features(photos))
        np.testing.assert_array_equal(vectors, plain_vectors)  # colour changes attributes, never vectors
        assert attributes is not None and plain is not None
        for blended, head_only in zip(attributes, plain, strict=True):
            assert {k: v for k, v in blended.probabilities.items() if k != "colour"} == {
                k: v for k, v in head_only.probabilities.items() if k != "colour"}
            assert sum(blended.probabilities["colour"].values()) == pytest.approx(1.0, abs=1e-4)
        assert any(b.probabilities["colour"] != h.probabilities["colour"] for b, h in zip(attributes, plain,
                                                                                          strict=True))
        batch = engine.preprocess(packshots)
        packshot_vectors, packshot_attributes = engine.embed_with_attributes(batch)
        np.testing.assert_allclose(packshot_vectors, engine.embed(packshots), atol=1e-5)
        assert packshot_attributes is not None
    torch_colours = [a.top("colour")[0] for a in head_engine.embed_photos(photos)[1]]
    onnx_colours = [a.top("colour")[0] for a in onnx_engine.embed_photos(photos)[1]]
    assert torch_colours == onnx_colours
