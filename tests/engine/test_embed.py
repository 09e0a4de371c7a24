"""The engine's vectors: unit length, batched, and meaningful (same product closer than other kinds)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import Engine, EngineConfig
from engine.device import resolve_device
from training.views import user_view


def test_embed_returns_unit_float32_rows(engine, test_data):
    images = [engine.decode((test_data / name).read_bytes()) for name in ("shoe.jpg", "cmyk.jpg", "rgba.png")]
    vectors = engine.embed(images * 7)  # 21 images: more than one batch of 16
    assert vectors.shape == (21, engine.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[3], atol=1e-5)  # batching does not change a vector
    assert engine.embed([]).shape == (0, engine.dim)


def test_two_photos_of_one_product_are_closer_than_other_categories(engine, test_data):
    demo = test_data.parent.parent / "demo" / "images"
    tshirt = Image.open(demo / "1578.jpg").convert("RGB")
    rng = np.random.default_rng(7)
    view_a, view_b = user_view(tshirt, rng, "easy"), user_view(tshirt, rng, "easy")
    others = [Image.open(demo / f"{i}.jpg").convert("RGB") for i in ("1546", "1548", "1549")]  # shoes
    a, b, *rest = engine.embed([view_a, view_b, *others])
    same = float(a @ b)
    assert all(same > float(a @ other) for other in rest), (same, [float(a @ o) for o in rest])


def test_fingerprint_names_what_makes_vectors_comparable(engine):
    assert len(engine.fingerprint) == 16
    assert engine.fingerprint_fields["backbone"] == "tf_efficientnet_lite0"
    again = Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu"))
    assert again.fingerprint == engine.fingerprint
    other = Engine.load(EngineConfig(backbone="resnet18", weights="random", device="cpu"))
    assert other.fingerprint != engine.fingerprint and other.dim == 512


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        resolve_device("cuda")
