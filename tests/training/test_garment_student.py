"""The garment student: targets from the teacher's masks, a fitted head, agreement on boxes, the ONNX it ships as."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
import timm
import torch
from PIL import Image

from engine.garment import STUDENT_GRID, STUDENT_INPUT, GarmentLocator, student_pixels
from training.garment_student import (
    GarmentStudent,
    MaskHead,
    TrainingPhotos,
    Trunk,
    TrunkMaps,
    box_agreement,
    box_iou,
    calibrate_sharpness,
    export_student,
    fit_head,
    grid_targets,
    predict,
)


def blob_masks(count: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Square garments at random places: (count, size, size) masks and each garment's top-left corner."""
    masks, corners = np.zeros((count, size, size), np.float32), []
    for i in range(count):
        top, left = rng.integers(0, size // 2, 2)
        masks[i, top:top + size // 2, left:left + size // 2] = 0.95
        corners.append((int(top), int(left)))
    return masks, corners


def test_teacher_masks_become_grid_targets_mirrored_with_their_photos():
    masks = np.zeros((1, 8, 8), np.float16)
    masks[0, :4, :2] = 1.0
    targets = grid_targets(masks, grid=4)
    assert targets.shape == (1, 4, 4) and targets.dtype == np.float32
    assert targets[0, 0, 0] == 1.0 and targets[0, 0, 1] == 0.0 and targets[0, 2, 0] == 0.0
    assert grid_targets(masks, grid=4, mirrored=True)[0, 0, 3] == 1.0
    with pytest.raises(ValueError, match="divide"):
        grid_targets(masks, grid=3)


def test_a_head_fitted_on_maps_that_show_the_garment_finds_its_box():
    rng = np.random.default_rng(0)
    masks, _ = blob_masks(96, 32, rng)
    # Maps that carry the mask (downsampled, like a trunk's strides), with noise channels beside it.
    coarse = masks.reshape(96, 4, 8, 4, 8).mean(axis=(2, 4))[:, None]
    fine = masks.reshape(96, 8, 4, 8, 4).mean(axis=(2, 4))[:, None]
    maps = TrunkMaps(np.concatenate([coarse, rng.normal(0, 0.1, (96, 3, 4, 4))], axis=1).astype(np.float16),
                     np.concatenate([fine, rng.normal(0, 0.1, (96, 2, 8, 8))], axis=1).astype(np.float16))
    assert len(maps) == 96 and len(maps[:80]) == 80
    assert len(TrunkMaps.concatenate([maps[:10], maps[10:]])) == 96
    head = fit_head(maps[:80], grid_targets(masks[:80], grid=16), epochs=40, batch=16, lr=1e-2)
    predicted = predict(head, maps[80:])
    assert predicted.shape == (16, 16, 16) and predicted.min() >= 0 and predicted.max() <= 1
    agreement = box_agreement(predicted, masks[80:], confident=0.8, student_confident=0.5)
    assert agreement.teacher_trusted == 1.0 and agreement.median_box_iou > 0.6
    sharpness = calibrate_sharpness(head, maps[80:], masks[80:])
    assert float(head.sharpness) == sharpness
    assert box_agreement(predict(head, maps[80:]), masks[80:], 0.8, 0.8).student_trusted >= 1.0 or sharpness == 3.0


def test_box_overlap_and_held_out_photographers():
    assert box_iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    assert box_iou((0, 0, 0.5, 1), (0.5, 0, 1, 1)) == 0.0
    assert box_iou((0, 0, 1, 1), (0, 0, 0.5, 0.5)) == pytest.approx(0.25)
    photos = TrainingPhotos([], [str(i % 10) for i in range(100)])
    held = photos.held_out(0.2, seed=3)
    senders = np.array(photos.senders)
    assert held.sum() == 20 and len(set(senders[held])) == 2
    assert not set(senders[held]) & set(senders[~held])  # a photographer's photos stay on one side
    assert (held == photos.held_out(0.2, seed=3)).all()


@pytest.mark.slow
def test_the_exported_student_runs_as_the_locator_runs_it(tmp_path):
    backbone = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0).eval()
    head = MaskHead()
    head.sharpness.fill_(1.5)
    student = GarmentStudent(backbone, head).eval()
    path = export_student(student, tmp_path / "student.onnx")
    photos = [Image.new("RGB", (300, 400), (200, 30, 30)), Image.new("RGB", (640, 480), (20, 20, 200))]
    pixels = np.stack([student_pixels(photo) for photo in photos])
    assert pixels.shape == (2, 3, STUDENT_INPUT, STUDENT_INPUT)
    with torch.inference_mode():
        expected = student(torch.from_numpy(pixels)).numpy()
        coarse, fine = Trunk(backbone)(torch.from_numpy(pixels))
    assert coarse.shape == (2, 112, 12, 12) and fine.shape == (2, 40, 24, 24)
    locator = GarmentLocator(onnxruntime.InferenceSession(str(path)), "student")
    masks = locator.masks(photos)
    assert masks.shape == (2, STUDENT_GRID, STUDENT_GRID)
    assert np.allclose(masks, expected, atol=1e-4)
