"""The engine exported to ONNX computes what PyTorch computes, on small real photos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.onnx_export import (
    OnnxBackbone,
    OnnxHead,
    calibration_batch,
    demo_images,
    export_onnx,
    quantize_backbone,
    quantize_backbone_dynamic,
)

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _photos() -> list[Path]:
    """The user-like demo photos and a few catalog packshots."""
    return sorted((REPO / "demo" / "photos").glob("*.jpg")) + sorted((REPO / "demo" / "images").glob("*.jpg"))[:8]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def exported(head_engine, tmp_path_factory):
    return export_onnx(head_engine, tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="module")
def batch_and_features(head_engine):
    batch = head_engine.preprocess([head_engine.decode(path.read_bytes()) for path in _photos()])
    return batch, head_engine.backbone_features(batch).numpy()


def test_onnx_backbone_features_match_pytorch(exported, batch_and_features):
    batch, reference = batch_and_features
    features = OnnxBackbone(exported.backbone, threads=2)(batch.numpy())
    assert features.shape == reference.shape and features.dtype == np.float32
    cosines = _cosines(features, reference)
    assert float(np.median(cosines)) >= 0.995, cosines
    assert float(cosines.min()) >= 0.99, cosines


def test_the_batch_axis_is_dynamic(exported, batch_and_features):
    batch, reference = batch_and_features
    runner = OnnxBackbone(exported.backbone, threads=2)
    one, three = runner(batch[:1].numpy()), runner(batch[1:4].numpy())
    assert one.shape[0] == 1 and three.shape[0] == 3
    np.testing.assert_allclose(np.concatenate([one, three]), reference[:4], atol=1e-3)


def test_onnx_head_gives_the_engines_vectors_and_attributes(head_engine, exported, batch_and_features):
    _, features = batch_and_features
    assert exported.head is not None and exported.attributes == tuple(head_engine.head.head.spec.vocabularies)
    head = OnnxHead(exported.head, threads=2)
    vectors, logits = head(features)
    reference, attributes = head_engine.vectors_of(torch.from_numpy(features))
    assert vectors.shape == reference.shape
    assert float(np.median(_cosines(vectors, reference))) >= 0.9999
    assert attributes is not None and head.attributes == exported.attributes
    for row, predicted in enumerate(attributes):
        for name in head.attributes:
            labels = head_engine.head.head.spec.vocabularies[name]
            assert labels[int(np.argmax(logits[name][row]))] == predicted.top(name)[0]


def test_int8_runs_but_holds_no_parity_on_this_backbone(head_engine, exported, batch_and_features, tmp_path):
    """Measured, not served: static int8 (QDQ, per channel, calibrated on 160 other demo packshots and the demo
    photos) keeps a median cosine of about 0.93 to PyTorch, dynamic int8 about 0.98 — both below issue 20's
    0.99 — so the export refuses int8 (tests/engine/test_onnx_engine.py) and fp32 serves."""
    batch, reference = batch_and_features
    calibration = calibration_batch(head_engine, *demo_images(head_engine, catalog=32, offset=100))
    static = quantize_backbone(exported.backbone, tmp_path / "static.onnx", calibration)
    dynamic = quantize_backbone_dynamic(exported.backbone, tmp_path / "dynamic.onnx")
    for path, floor in ((static, 0.8), (dynamic, 0.95)):
        cosines = _cosines(OnnxBackbone(path, threads=2)(batch.numpy()), reference)
        assert floor <= float(np.median(cosines)) < 0.995, (path.name, cosines)


def test_the_runners_need_no_torch(exported):
    """The runners run an exported model with numpy and onnxruntime alone: importing them loads no torch."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from engine.onnx_export import OnnxBackbone\n"
        f"features = OnnxBackbone({str(exported.backbone)!r}, threads=1)(np.zeros((2, 3, 224, 224), np.float32))\n"
        "assert features.shape[0] == 2, features.shape\n"
        "print(sorted(name for name in ('torch', 'timm') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
