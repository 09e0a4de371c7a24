"""The embedding map: a 2-D layout, its picture and the TensorBoard projector files."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_map_and_projector_export(tmp_path, tiny_catalog):
    from training.embedding_map import draw_map, export_projector, layout_2d

    products = tiny_catalog[:12]
    vectors = np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32)
    points = layout_2d(vectors)
    assert points.shape == (12, 2)
    assert draw_map(points, products, tmp_path / "map.png", "test", mosaic=True).stat().st_size > 1000
    directory = export_projector(vectors, products, tmp_path / "projector", thumbnail=16)
    assert len((directory / "vectors.tsv").read_text().splitlines()) == 12
    metadata = (directory / "metadata.tsv").read_text().splitlines()
    assert metadata[0].startswith("id\tcategory") and len(metadata) == 13
    assert "single_image_dim: 16" in (directory / "projector_config.pbtxt").read_text()
