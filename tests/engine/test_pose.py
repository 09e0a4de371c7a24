"""The pose model (BlazePose on onnxruntime) on real photos: a person is found where there is one, with landmarks
where the body is, and photos of garments alone — laid flat, or hung up — have none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.pose import FAR_FACES, NEAR_FACES, POSE_DETECTOR, PoseLocator, ssd_anchors
from engine.regions import SHOULDERS, body_regions

REPO = Path(__file__).resolve().parents[2]
DEMO_PHOTOS = REPO / "demo" / "photos"
# A shirt on a hanger that the pose detector alone takes for a body (score 0.84): the face check refuses it.
HUNG_SHIRT = REPO.parent / "shared" / "clothing-dataset" / "images" / "d7e2ad1c-e998-479c-ab3a-7500a29e9f90.jpg"


@pytest.fixture(scope="module")
def locator() -> PoseLocator:
    return PoseLocator.load(threads=1)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def test_the_anchors_match_the_models_outputs() -> None:
    sizes = {spec.file: len(ssd_anchors(spec.size, spec.strides, spec.interpolated))
             for spec in (POSE_DETECTOR, NEAR_FACES, FAR_FACES)}
    assert sizes == {POSE_DETECTOR.file: 2254, NEAR_FACES.file: 896, FAR_FACES.file: 2304}


def test_the_astronaut_is_a_person_with_a_top_and_no_bottom_in_view(locator, astronaut) -> None:
    pose = locator.locate(astronaut)
    assert pose is not None and pose.points.shape == (33, 2)
    seen = pose.seen()
    assert seen[list(SHOULDERS)].all() and seen[0]  # the nose and both shoulders
    (right_x, right_y), (left_x, left_y) = pose.points[12], pose.points[11]
    assert 60 < right_x < 200 < left_x < 360 and 160 < right_y < 300 and 160 < left_y < 300
    assert 80 < pose.points[0, 1] < 180  # the nose, on the face
    assert not seen[[23, 24]].any()  # the hips are below the frame
    [top] = body_regions(pose.points, seen, pose.size)
    x0, y0, x1, y1 = top.box
    assert top.name == "top" and x0 < 110 and x1 > 300 and 130 < y0 < 230 and y1 == 512  # the suit's torso


def test_a_person_in_a_dress_is_found_whole(locator) -> None:
    image = Image.open(DEMO_PHOTOS / "dress-37936.jpg").convert("RGB")
    pose = locator.locate(image)
    assert pose is not None
    names = {region.name for region in body_regions(pose.points, pose.seen(), pose.size)}
    assert {"top", "bottom", "full"} <= names


@pytest.mark.parametrize("name", ["heels-17662.jpg", "casual-shoes-2831.jpg", "sports-shoes-4156.jpg",
                                  "flip-flops-10741.jpg"])
def test_a_flat_lay_has_no_person_and_costs_the_detector_alone(locator, name: str) -> None:
    image = Image.open(DEMO_PHOTOS / name).convert("RGB")
    assert locator.detect(image) is None
    assert locator.locate(image) is None


@pytest.mark.skipif(not HUNG_SHIRT.is_file(), reason="needs ../shared/clothing-dataset")
def test_a_shirt_taken_for_a_body_has_no_face_and_so_no_person(locator) -> None:
    image = Image.open(HUNG_SHIRT).convert("RGB")
    detection = locator.detect(image)
    assert detection is not None and detection.score > 0.8  # the pose detector alone is fooled
    assert not locator.has_face(image, detection)
    assert locator.locate(image) is None


def test_landmarks_follow_the_photo_when_it_is_mirrored(locator, astronaut) -> None:
    pose = locator.locate(astronaut)
    mirrored = locator.locate(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert pose is not None and mirrored is not None
    # the mirrored photo's right shoulder is where the original's left one was, reflected
    reflected = np.array([astronaut.width - pose.points[11, 0], pose.points[11, 1]])
    assert np.linalg.norm(mirrored.points[12] - reflected) < 0.05 * astronaut.width  # the model is not symmetric
