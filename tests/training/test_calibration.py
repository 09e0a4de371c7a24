"""The "nothing close" threshold: calibrated on garment photos, and the offline non-fashion photos load."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import best_similarity, calibrate, non_fashion_photos


def test_the_threshold_lets_all_but_the_refused_share_through():
    similarities = np.linspace(0.3, 0.8, 101)
    threshold = calibrate(similarities, refused_share=0.02)
    assert (similarities < threshold).mean() == pytest.approx(0.02, abs=0.011)
    with pytest.raises(ValueError):
        calibrate(np.array([]))


def test_best_similarity_is_each_querys_closest_catalog_vector():
    catalog = np.eye(3, dtype=np.float32)
    queries = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], np.float32)
    assert best_similarity(queries, catalog).tolist() == pytest.approx([0.8, 1.0])
    assert best_similarity(queries, np.zeros((0, 3), np.float32)).tolist() == [-1.0, -1.0]


def test_non_fashion_photos_ship_offline():
    pytest.importorskip("skimage")
    photos = non_fashion_photos()
    assert len(photos) >= 12 and all(image.mode == "RGB" for _, image in photos)
    assert {"cat", "coffee", "rocket"} <= {name for name, _ in photos}
