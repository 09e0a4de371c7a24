"""Where each garment a person wears is, from their body landmarks: pure geometry on numpy arrays.

Landmarks are BlazePose's 33 (engine/pose.py), in pixels of the photo, with which of them are seen. Each
region comes from the landmarks that bound it — the top from the shoulders to the hips, the bottom from the
hips to the ankles, a one-piece (``full``) from the shoulders down to the ankles, the shoes around the ankles,
heels and foot tips — widened by margins proportional to the torso's length (a scale that holds however far
the person stands), and clipped to the photo. A region needs the landmarks that anchor it seen; its far edge
may come from landmarks outside the frame (a photo cut at the waist still has a top, down to the frame).

Each region has two boxes: where the garment is (``box``, what a user is shown), and what the model reads to
find it (``view``: the garment with context around it, the chin above a top, the thighs below it). Which of top
+ bottom or full the person wears is not geometry: :func:`outfit` takes that decision as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

SHOULDERS = (11, 12)
ELBOWS = (13, 14)
HIPS = (23, 24)
KNEES = (25, 26)
ANKLES = (27, 28)
HEELS = (29, 30)
FOOT_TIPS = (31, 32)


@dataclass(frozen=True)
class Margins:
    """Margins in torso lengths (mid-shoulder to mid-hip): above the shoulders, below the hips (a top's hem),
    beside, above the hips (a bottom's waistband) and below the ankles."""

    collar: float
    hem: float
    side: float
    waist: float
    below_ankle: float


# Where the garment is: a collar, a hem over the hips, sleeves and a loose fit, a waistband, a hem over the shoes.
GARMENT = Margins(collar=0.15, hem=0.2, side=0.15, waist=0.1, below_ankle=0.12)
# What the model reads. Measured on the shared sample's photos of people in tops (scripts/eval_regions.py): the
# labelled top's type P@5 is 0.77 when the model reads 0.2 / 0.15 / 0.12 above, below and beside, 0.88 with
# these (the whole photo: 0.90, its catalog being photos of models too); more context becomes the whole person.
CONTEXT = Margins(collar=0.8, hem=0.6, side=0.3, waist=0.3, below_ankle=0.25)
FOOT = 0.35  # of a foot's length, around its landmarks
ABOVE_ANKLE = 0.5  # of a foot's length, for the shoe's upper
# A region keeps at least this share of its garment's landmark span inside the photo (across and down), and its
# box's short side this share of the photo's short side (and MIN_SIDE pixels): less is a sliver the model cannot
# read.
MIN_INSIDE = 0.45
MIN_SHARE = 0.04
MIN_SIDE = 16

ONE_PIECE = "full"
TWO_PIECE = ("top", "bottom")
# The landmarks a garment spans, margins aside.
GARMENT_LANDMARKS = {"top": (*SHOULDERS, *HIPS), "bottom": (*HIPS, *ANKLES), ONE_PIECE: (*SHOULDERS, *ANKLES),
                     "shoes": (*ANKLES, *FOOT_TIPS)}

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class BodyRegion:
    """One garment: its box (x0, y0, x1, y1) in pixels of the photo, the box the model reads (``view``, the
    garment with context), and its box's share of the photo's area."""

    name: str
    box: tuple[int, int, int, int]
    view: tuple[int, int, int, int]
    prominence: float


def body_regions(points: np.ndarray, seen: np.ndarray, size: tuple[int, int]) -> list[BodyRegion]:
    """Every region the landmarks support — ``top``, ``bottom``, ``full`` and ``shoes`` — most prominent first;
    empty without both shoulders seen (every region's scale is the torso, from the shoulders down)."""
    points, seen = np.asarray(points, np.float64), np.asarray(seen, bool)
    if not all(seen[index] for index in SHOULDERS):
        return []
    torso = float(np.linalg.norm(points[list(SHOULDERS)].mean(axis=0) - points[list(HIPS)].mean(axis=0))) or 1.0
    regions = []
    for name in ("top", "bottom", ONE_PIECE, "shoes"):
        box, view = (_box(name, points, seen, torso, margins) for margins in (GARMENT, CONTEXT))
        if box is not None and view is not None:
            region = _fitted(name, box, view, _span(points, GARMENT_LANDMARKS[name]), size)
            if region is not None:
                regions.append(region)
    return sorted(regions, key=lambda region: region.prominence, reverse=True)


def outfit(regions: Sequence[BodyRegion], one_piece: bool) -> list[BodyRegion]:
    """The regions of what is worn: ``full`` instead of ``top`` and ``bottom`` for a one-piece (the top's box
    standing for it when the legs are out of view), else those two; shoes either way."""
    names = {region.name for region in regions}
    if not one_piece:
        return [region for region in regions if region.name != ONE_PIECE]
    if ONE_PIECE in names:
        return [region for region in regions if region.name not in TWO_PIECE]
    return [replace(region, name=ONE_PIECE) if region.name == "top" else region for region in regions
            if region.name != "bottom"]


def _box(name: str, points: np.ndarray, seen: np.ndarray, torso: float, margins: Margins) -> Box | None:
    if name == "top":
        return _top(points, seen, torso, margins)
    if name == "bottom":
        return _bottom(points, seen, torso, margins)
    if name == ONE_PIECE:
        return _full(points, seen, torso, margins)
    return _shoes(points, seen)


def _span(points: np.ndarray, indices: Sequence[int]) -> Box:
    chosen = points[list(indices)]
    return (float(chosen[:, 0].min()), float(chosen[:, 1].min()), float(chosen[:, 0].max()),
            float(chosen[:, 1].max()))


def _top(points: np.ndarray, seen: np.ndarray, torso: float, margins: Margins) -> Box:
    sides = [*SHOULDERS, *HIPS] + [elbow for elbow in ELBOWS if seen[elbow]]
    x0, _, x1, _ = _span(points, sides)
    y0 = float(points[list(SHOULDERS), 1].min()) - margins.collar * torso
    y1 = float(points[list(HIPS), 1].max()) + margins.hem * torso
    return x0 - margins.side * torso, y0, x1 + margins.side * torso, y1


def _bottom(points: np.ndarray, seen: np.ndarray, torso: float, margins: Margins) -> Box | None:
    if not (all(seen[hip] for hip in HIPS) and any(seen[knee] for knee in KNEES)):
        return None
    x0, _, x1, _ = _span(points, [*HIPS, *KNEES, *ANKLES])
    y0 = float(points[list(HIPS), 1].min()) - margins.waist * torso
    y1 = float(points[list(ANKLES), 1].max()) + margins.below_ankle * torso
    return x0 - margins.side * torso, y0, x1 + margins.side * torso, y1


def _full(points: np.ndarray, seen: np.ndarray, torso: float, margins: Margins) -> Box | None:
    top, bottom = _top(points, seen, torso, margins), _bottom(points, seen, torso, margins)
    if bottom is None:
        return None
    return min(top[0], bottom[0]), top[1], max(top[2], bottom[2]), bottom[3]


def _shoes(points: np.ndarray, seen: np.ndarray) -> Box | None:
    feet = [(ankle, heel, tip) for ankle, heel, tip in zip(ANKLES, HEELS, FOOT_TIPS, strict=True)
            if seen[ankle] and (seen[heel] or seen[tip])]
    if not feet:
        return None
    length = max(float(np.linalg.norm(points[heel] - points[tip])) for _, heel, tip in feet)
    x0, y0, x1, y1 = _span(points, [index for foot in feet for index in foot])
    return x0 - FOOT * length, y0 - ABOVE_ANKLE * length, x1 + FOOT * length, y1 + FOOT * length


def _fitted(name: str, box: Box, view: Box, span: Box, size: tuple[int, int]) -> BodyRegion | None:
    """The boxes clipped to the photo, in whole pixels; None when too little of the garment's landmark ``span`` is
    inside the photo or the box is too small."""
    width, height = size
    for low, high, limit in ((span[0], span[2], width), (span[1], span[3], height)):
        if high - low > 0 and (min(high, limit) - max(low, 0)) < MIN_INSIDE * (high - low):
            return None
    clipped, clipped_view = _clipped(box, size), _clipped(view, size)
    inside_w, inside_h = clipped[2] - clipped[0], clipped[3] - clipped[1]
    if min(inside_w, inside_h) < max(MIN_SIDE, MIN_SHARE * min(width, height)):
        return None
    return BodyRegion(name, clipped, clipped_view, inside_w * inside_h / (width * height))


def _clipped(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(0, round(x0)), max(0, round(y0)), min(size[0], round(x1)), min(size[1], round(y1))
