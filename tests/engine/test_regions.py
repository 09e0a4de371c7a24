"""Garment regions from body landmarks: synthetic landmark sets of a person standing in a 400×800 photo, some of
them cut by the frame or hidden, and what each region's box must hold."""

from __future__ import annotations

import numpy as np
import pytest

from engine.regions import ANKLES, FOOT_TIPS, HEELS, HIPS, KNEES, SHOULDERS, BodyRegion, body_regions, outfit

SIZE = (400, 800)
# A person facing the camera (their left on the photo's right), head at the top, feet near the bottom.
STANDING = {
    0: (200, 60), **{i: (200 + (-1) ** i * 10, 55) for i in range(1, 11)},
    11: (280, 150), 12: (120, 150),  # shoulders
    13: (300, 250), 14: (100, 250), 15: (305, 340), 16: (95, 340),  # elbows, wrists
    **{i: (305 if i % 2 else 95, 360) for i in range(17, 23)},  # hands
    23: (230, 400), 24: (170, 400),  # hips
    25: (235, 560), 26: (165, 560),  # knees
    27: (235, 720), 28: (165, 720),  # ankles
    29: (230, 740), 30: (170, 740),  # heels
    31: (250, 760), 32: (150, 760),  # foot tips
}


def landmarks(shift: tuple[float, float] = (0, 0), scale: float = 1.0,
              hidden: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    points = np.array([STANDING[i] for i in range(33)], np.float64) * scale + np.array(shift)
    seen = (points[:, 0] >= 0) & (points[:, 0] < SIZE[0]) & (points[:, 1] >= 0) & (points[:, 1] < SIZE[1])
    seen[list(hidden)] = False
    return points, seen


def names(regions: list[BodyRegion]) -> set[str]:
    return {region.name for region in regions}


@pytest.mark.parametrize(("case", "shift", "scale", "hidden", "expected"), [
    ("whole body in view", (0, 0), 1.0, (), {"top", "bottom", "full", "shoes"}),
    ("cut at the waist: the hips below the frame", (0, 420), 1.0, (), {"top"}),
    ("cut at the shins: no feet", (0, 130), 1.0, (), {"top", "bottom", "full"}),
    ("feet hidden (a long skirt, a table)", (0, 0), 1.0, (*ANKLES, *HEELS, *FOOT_TIPS), {"top", "bottom", "full"}),
    ("knees hidden: no bottom to speak of", (0, 0), 1.0, KNEES, {"top", "shoes"}),
    ("one foot seen is shoes", (0, 0), 1.0, (27, 29, 31), {"top", "bottom", "full", "shoes"}),
    ("no shoulders: no body", (0, 0), 1.0, SHOULDERS, set()),
    ("head and shoulders only, above the frame's bottom edge", (0, 560), 1.0, (), set()),
    ("a tiny person far away", (0, 0), 0.05, (), set()),
])
def test_regions_from_landmarks(case: str, shift, scale, hidden, expected) -> None:
    points, seen = landmarks(shift, scale, hidden)
    assert names(body_regions(points, seen, SIZE)) == expected, case


def test_each_box_holds_its_landmarks_with_margins_and_stays_in_the_photo() -> None:
    points, seen = landmarks()
    regions = {region.name: region for region in body_regions(points, seen, SIZE)}

    def holds(name: str, indices) -> bool:
        x0, y0, x1, y1 = regions[name].box
        return all(x0 < points[i, 0] < x1 and y0 < points[i, 1] < y1 for i in indices)

    assert holds("top", (*SHOULDERS, *HIPS)) and holds("bottom", (*HIPS, *KNEES, *ANKLES))
    assert holds("full", (*SHOULDERS, *ANKLES)) and holds("shoes", (*ANKLES, *HEELS, *FOOT_TIPS))
    assert regions["top"].box[1] < 150 - 20 and regions["top"].box[3] > 400  # a collar above, a hem below
    assert regions["shoes"].box[1] > 400 and regions["top"].box[3] < 720  # shoes are not the top
    for region in regions.values():
        x0, y0, x1, y1 = region.box
        assert 0 <= x0 < x1 <= SIZE[0] and 0 <= y0 < y1 <= SIZE[1]
        v0, w0, v1, w1 = region.view  # what the model reads: the garment and some context around it
        assert v0 <= x0 and w0 <= y0 and v1 >= x1 and w1 >= y1
        assert region.prominence == pytest.approx((x1 - x0) * (y1 - y0) / (SIZE[0] * SIZE[1]))


def test_regions_come_most_prominent_first_and_a_cut_box_is_clipped_to_the_frame() -> None:
    regions = body_regions(*landmarks(), SIZE)
    assert [region.prominence for region in regions] == sorted((r.prominence for r in regions), reverse=True)
    assert regions[0].name == "full" and regions[-1].name == "shoes"
    [top] = body_regions(*landmarks(shift=(0, 420)), SIZE)  # the hips below the frame
    assert top.box[3] == SIZE[1] and top.box[1] < 570 < top.box[3]


@pytest.mark.parametrize(("one_piece", "worn"), [(True, ["full", "shoes"]), (False, ["top", "bottom", "shoes"])])
def test_the_outfit_is_a_one_piece_or_a_top_and_a_bottom(one_piece: bool, worn: list[str]) -> None:
    regions = body_regions(*landmarks(), SIZE)
    assert [region.name for region in outfit(regions, one_piece)] == worn


def test_a_one_piece_with_the_legs_out_of_view_is_the_tops_box() -> None:
    regions = body_regions(*landmarks(shift=(0, 420)), SIZE)  # only the top is in view
    assert [region.name for region in outfit(regions, one_piece=False)] == ["top"]
    [full] = outfit(regions, one_piece=True)
    assert (full.name, full.box) == ("full", regions[0].box)
