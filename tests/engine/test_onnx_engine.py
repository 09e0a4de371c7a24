"""The CPU serving engine: ONNX Runtime, from a kept export, the same vectors as PyTorch, no PyTorch loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine import EngineConfig, load_engine
from engine.onnx_cache import Export, OnnxExportError, export_key
from engine.runtime import gpu_present, resolve_runtime

REPO = Path(__file__).resolve().parents[2]
SHIPPED = EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", batch_size=16, artifact="auto",
                       runtime="onnx")


def _demo(folder: str, count: int) -> list[bytes]:
    return [path.read_bytes() for path in sorted((REPO / "demo" / folder).glob("*.jpg"))[:count]]


@pytest.fixture(scope="module")
def onnx_engine():
    return load_engine(SHIPPED)  # the export is kept (~/.cache/fashionbot/onnx): made once per machine


@pytest.mark.skipif(gpu_present(), reason="auto picks torch where a GPU is")
def test_auto_serves_on_onnx_on_a_machine_without_a_gpu():
    assert resolve_runtime(EngineConfig()) == "onnx"
    assert resolve_runtime(EngineConfig(runtime="torch")) == "torch"
    assert resolve_runtime(EngineConfig(compile=True)) == "torch"  # what only PyTorch does picks PyTorch


def test_asking_onnx_for_what_only_torch_does_is_refused_clearly():
    with pytest.raises(ValueError, match="device cuda needs runtime torch"):
        resolve_runtime(EngineConfig(runtime="onnx", device="cuda"))
    with pytest.raises(ValueError, match="runtime must be one of"):
        EngineConfig(runtime="tensorrt")
    with pytest.raises(ValueError, match="precision must be one of"):
        EngineConfig(precision="int4")
    with pytest.raises(ValueError, match="garment_model must be one of"):
        EngineConfig(garment_model="rembg")


def test_an_export_is_found_by_what_decides_its_contents(tmp_path):
    assert export_key(SHIPPED) == export_key(replace(SHIPPED, batch_size=64, threads=1, query_framing="whole",
                                                     garment_model="u2netp"))
    assert export_key(SHIPPED) != export_key(replace(SHIPPED, precision="int8"))
    assert export_key(SHIPPED) != export_key(replace(SHIPPED, artifact=None))
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"one")
    first = export_key(replace(SHIPPED, weights=str(weights)))
    weights.write_bytes(b"two")  # retrained weights under the same name
    assert export_key(replace(SHIPPED, weights=str(weights))) != first


def test_an_export_that_strays_from_pytorch_is_refused(tmp_path):
    export = Export(tmp_path, {"files": {}, "parity": {"fp32": {"median_cosine": 1.0},
                                                       "int8": {"median_cosine": 0.93}}})
    export.check_parity("fp32")
    with pytest.raises(OnnxExportError, match="FASHIONBOT_PRECISION=fp32"):
        export.check_parity("int8")


@pytest.mark.slow
def test_vectors_and_attributes_match_pytorchs(onnx_engine, head_engine):
    packshots = [onnx_engine.decode(blob) for blob in _demo("images", 12)]
    photos = [onnx_engine.decode(blob) for blob in _demo("photos", 8)]
    reference_photos, reference_attributes = head_engine.embed_photos(photos)
    vectors, attributes = onnx_engine.embed_photos(photos)
    cosines = np.concatenate([(head_engine.embed(packshots) * onnx_engine.embed(packshots)).sum(axis=1),
                              (reference_photos * vectors).sum(axis=1)])
    assert float(np.median(cosines)) >= 0.995 and float(cosines.min()) >= 0.99, cosines
    assert attributes is not None and reference_attributes is not None
    for ours, theirs in zip(attributes, reference_attributes, strict=True):
        for name in ("category", "colour", "gender"):
            assert ours.top(name)[0] == theirs.top(name)[0]


@pytest.mark.slow
def test_the_fingerprint_names_the_runtime_while_heads_fit_both(onnx_engine, head_engine):
    assert onnx_engine.runtime == "onnx" and head_engine.runtime == "torch"
    assert onnx_engine.fingerprint != head_engine.fingerprint  # an index answers only its own runtime's vectors
    assert onnx_engine.backbone_fingerprint == head_engine.backbone_fingerprint
    assert onnx_engine.dim == head_engine.dim and str(onnx_engine.framing) == str(head_engine.framing)
    assert onnx_engine.describe()["runtime"] == "onnx" and onnx_engine.describe()["precision"] == "fp32"
    assert onnx_engine.head is not None and onnx_engine.head.training == json.loads(
        json.dumps(head_engine.head.training, default=str))


@pytest.mark.slow
def test_a_kept_export_is_used_without_exporting_again(onnx_engine, monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert load_engine(SHIPPED).fingerprint == onnx_engine.fingerprint


@pytest.mark.slow
def test_a_bad_photo_in_a_batch_is_reported_and_the_others_go_on(onnx_engine):
    good = _demo("photos", 2)
    batch, errors = onnx_engine.prepare_bytes([good[0], b"not an image", good[1]])
    assert batch.shape == (2, 3, 224, 224) and errors[0] is None and errors[2] is None
    assert errors[1] is not None and errors[1].kind == "not_image"


def test_a_batch_of_views_is_resized_on_the_engines_threads_as_one_by_one(onnx_engine):
    images = [onnx_engine.decode(blob) for blob in _demo("photos", 3) + _demo("images", 3)]
    one_by_one = np.stack([onnx_engine.preprocess([image])[0] for image in images])
    assert np.array_equal(onnx_engine.preprocess(images), one_by_one)


@pytest.mark.slow
def test_a_bot_serving_on_onnx_never_imports_torch_and_rebuilds_a_torch_index(onnx_engine, small_feed, engine,
                                                                              tmp_path):
    """The recommender as the bot opens it: an index that PyTorch built is rebuilt for ONNX Runtime (its vectors
    are another engine's), photos are answered, and neither torch nor timm is ever imported."""
    from recommender.indexing import build_index

    index = tmp_path / "index"
    build_index(small_feed, index, engine)  # built by PyTorch, the plain backbone
    code = (
        "import asyncio, json, sys\n"
        "from pathlib import Path\n"
        "import bot.telegram.app, bot.discord.app, playground.runner\n"
        "from recommender import CatalogRecommender, RecommenderSettings\n"
        "async def main():\n"
        f"    settings = RecommenderSettings(index=Path({str(index)!r}), catalog=Path({str(small_feed)!r}),\n"
        "                                   runtime='onnx', follow_builds_s=0)\n"
        "    recommender = await CatalogRecommender.open(settings)\n"
        f"    photo = Path({str(REPO / 'demo' / 'photos' / 'dress-37936.jpg')!r}).read_bytes()\n"
        "    hits = await recommender.search(await recommender.photo(photo), 3)\n"
        "    print(json.dumps({'runtime': recommender.engine.runtime, 'served': recommender.products_served,\n"
        "                      'hits': len(hits), 'loaded': [m for m in ('torch', 'timm') if m in sys.modules]}))\n"
        "    await recommender.aclose()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {"runtime": "onnx", "served": 40, "hits": 3, "loaded": []}
    assert "rebuilding it with this engine" in done.stderr


@pytest.mark.parametrize(("cpu_max", "expected"), [("max 100000", None), ("200000 100000", 2), ("150000 100000", 2),
                                                    ("50000 100000", 1), ("garbage", None)])
def test_threads_follow_a_containers_cpu_quota(tmp_path, cpu_max, expected):
    import os

    from engine.ort_sessions import cores

    affinity = len(os.sched_getaffinity(0))
    quota = tmp_path / "cpu.max"
    quota.write_text(cpu_max + "\n")
    assert cores(quota) == (affinity if expected is None else min(affinity, expected))
    assert cores(tmp_path / "missing") == affinity
