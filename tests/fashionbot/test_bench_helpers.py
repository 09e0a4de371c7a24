"""The benchmark's pure parts and its JSON contract, on a tiny configuration (not a timing test)."""

from __future__ import annotations

import numpy as np
import pytest

from fashionbot.bench import BenchConfig, faiss_bench, percentile, recall_at_k, synthetic_vectors


def test_recall_counts_shared_ids_per_query():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 9], [5, 6, 7, 8]])
    assert recall_at_k(found, exact, k=4) == pytest.approx((2 / 4 + 1) / 2)


def test_percentiles_interpolate_and_handle_empty():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert np.isnan(percentile([], 50))


def test_synthetic_vectors_are_unit_rows_and_deterministic():
    a, b = synthetic_vectors(300, 32, seed=3, clusters=10, intrinsic=8), synthetic_vectors(300, 32, seed=3,
                                                                                           clusters=10, intrinsic=8)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, b)


def test_faiss_bench_reports_every_type_and_the_auto_choice():
    result = faiss_bench(64, 3000, 20, ("flat", "hnsw", "ivfpq"), train_per_list=39)
    assert set(result) == {"flat", "hnsw", "ivfpq", "auto"} and result["auto"]["type"] == "flat"
    assert result["flat"]["recall_at_10"] == 1.0
    for entry in result.values():
        assert {"key", "build_s", "memory_mb", "ms_per_query", "recall_at_10"} <= set(entry)


def test_quick_config_is_smaller_and_gpu_gets_more_photos():
    quick, full = BenchConfig.for_device(True, "cpu"), BenchConfig.for_device(False, "cpu")
    assert quick.faiss_items == 100_000 and full.faiss_items == 1_000_000 and quick.photos < full.photos
    assert BenchConfig.for_device(True, "cuda").photos > quick.photos


@pytest.mark.slow
def test_bench_json_has_the_contract_keys(monkeypatch):
    from fashionbot import bench

    monkeypatch.setattr(bench, "bot_peak_rss", lambda *args: {"bot_peak_rss_mb": 1.0, "bot_imports_torch": False})
    config = BenchConfig(device="cpu", backbone="tf_efficientnet_lite0", thumbs=8, photos=4, queries=3,
                         concurrent_rounds=1, faiss_items=2000, faiss_queries=10, forward_seconds=0.1,
                         ivf_train_per_list=39)
    result = bench.run_bench(config)
    for key in ("device", "backbone", "batch_size", "random_weights", "raw_forward_img_s", "index_img_s_thumbs",
                "index_img_s_photos", "index_ratio_photos", "query_p50_ms", "query_p99_ms", "query20_p95_ms",
                "bot_peak_rss_mb", "bot_imports_torch", "peak_rss_mb", "runtime", "precision", "faiss",
                "framed_photo_p50_ms", "framed_photo20_p95_ms"):
        assert key in result, key
    # Latencies also as multiples of one eager forward, the unit issue 20's targets are set in.
    assert result["query_p50_forwards"] == pytest.approx(result["query_p50_ms"] * result["raw_forward_img_s"] / 1000,
                                                         abs=0.01)
    # What serves is ONNX Runtime on a CPU; the eager PyTorch reference stays the ratios' denominator, and the
    # runtime's own figures (fp32, static and dynamic int8, with their parity) sit beside it, from the same run.
    assert result["runtime"] == "onnx" and result["precision"] == "fp32"
    for key in ("raw_forward_onnx_img_s", "raw_forward_onnx_int8_img_s", "raw_forward_onnx_int8_dynamic_img_s"):
        assert result[key] > 0, key
        assert result[key.replace("_img_s", "_ratio")] == pytest.approx(result[key] / result["raw_forward_img_s"],
                                                                       rel=0.01, abs=0.002)
        assert 0.5 < result[key.replace("_img_s", "_cosine")] <= 1.0001, key
    assert result["raw_forward_onnx_cosine"] >= 0.995
    assert {"flat", "hnsw", "ivfpq"} <= set(result["faiss"])
