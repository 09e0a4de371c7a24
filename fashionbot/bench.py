"""`fashionbot bench`: model ceiling, end-to-end index builds, query latency and FAISS choices in one run."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PHOTO_SIZE = (1080, 1440)  # width, height of a typical product photo


@dataclass(frozen=True)
class BenchConfig:
    device: str = "auto"
    backbone: str = "auto"
    weights: str | None = None
    batch_size: int | None = None  # default: the engine's (16 on the CPU, 256 for index builds on CUDA)
    thumbs: int = 808  # demo thumbnails indexed (the whole demo catalog)
    photos: int = 256  # generated 1080×1440 JPEGs indexed
    queries: int = 100
    concurrent_rounds: int = 10
    faiss_items: int = 1_000_000
    faiss_queries: int = 500
    faiss_types: tuple[str, ...] = ("flat", "hnsw", "ivfpq")
    ivf_train_per_list: int = 256  # --quick: 39, FAISS's minimum (k-means dominates its build time)
    forward_seconds: float = 8.0
    runtime: str = "auto"  # what serves: index builds, queries and the bot process (engine.runtime)
    precision: str = "fp32"
    garment_model: str = "student"  # what finds the garment in the query photos (engine/garment.py)

    @classmethod
    def quick(cls, **overrides) -> BenchConfig:
        return replace(cls(thumbs=160, photos=48, queries=30, concurrent_rounds=3, faiss_items=100_000,
                           faiss_queries=200, forward_seconds=4.0, ivf_train_per_list=39), **overrides)

    @classmethod
    def for_device(cls, quick: bool, device_type: str, **overrides) -> BenchConfig:
        config = cls.quick(**overrides) if quick else replace(cls(), **overrides)
        if device_type == "cuda" and "photos" not in overrides:  # a GPU indexes thousands a second
            config = replace(config, photos=1024 if quick else 4096)
        return config


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def recall_at_k(found: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Mean share of each query's exact top-k ids that the approximate top-k found."""
    found, exact = np.asarray(found)[:, :k], np.asarray(exact)[:, :k]
    hits = [len(set(row_found.tolist()) & set(row_exact.tolist())) for row_found, row_exact in zip(found, exact,
                                                                                                    strict=True)]
    return float(np.mean(hits) / k) if hits else float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: Linux's VmHWM, which starts afresh at exec —
    unlike ``ru_maxrss``, which a child started by fork + exec inherits from its parent (a bot probed from the
    bench process reported the bench's gigabytes, not its own)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_vectors(n: int, dim: int, seed: int = 0, clusters: int = 1000, intrinsic: int = 64) -> np.ndarray:
    """Unit vectors shaped like image embeddings: clustered, low intrinsic dimension, a little isotropic noise.

    Uniformly random high-dimensional vectors would make every ANN index look hopeless; real embeddings
    are not like that. Rows are generated in chunks so 1 M × 1280 needs only the output's memory.
    """
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((dim, intrinsic)).astype(np.float32))[0].T  # (intrinsic, dim)
    centres = rng.standard_normal((clusters, intrinsic)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = min(100_000, n - start)
        latent = centres[rng.integers(0, clusters, rows)] + 0.6 * rng.standard_normal((rows, intrinsic),
                                                                                       dtype=np.float32)
        block = latent @ basis
        block += 0.02 * rng.standard_normal((rows, dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + rows] = block
    return out


def run_bench(config: BenchConfig) -> dict:
    """Every figure of the benchmark as one flat dict (see BENCHMARKS.md for what bounds each).

    ``raw_forward_img_s`` is always eager PyTorch fp32 (the reference every ratio divides by, comparable across
    changes); the index builds, queries and the bot process run on the serving runtime (``config.runtime``).
    """
    import torch

    from engine import Engine, EngineConfig, load_engine

    engine_config = EngineConfig(backbone=config.backbone, weights=config.weights, device=config.device,
                                 artifact=None, runtime=config.runtime, precision=config.precision,
                                 garment_model=config.garment_model)
    if config.batch_size:
        engine_config = replace(engine_config, batch_size=config.batch_size)
    reference = Engine.load(replace(engine_config, runtime="torch"))
    result: dict = {
        "device": str(reference.device),
        "device_name": (torch.cuda.get_device_name(reference.device) if reference.device.type == "cuda"
                        else _cpu_name()),
        "backbone": reference.backbone_name,
        "weights": reference.weights_source,
        "random_weights": "random" in reference.weights_source,
        "dim": reference.dim,
        "batch_size": reference.build_batch_size,
        "query_batch_size": reference.config.batch_size,
        "decode_path": reference.decode_path,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "quick": config.faiss_items < 1_000_000,
    }
    result["raw_forward_img_s"] = round(raw_forward(reference, reference.build_batch_size, config.forward_seconds),
                                        1)
    result.update(raw_forward_onnx(reference, reference.build_batch_size, config.forward_seconds,
                                   result["raw_forward_img_s"]))
    del reference
    engine = load_engine(engine_config)
    result.update(runtime=engine.runtime, precision=getattr(engine, "precision", "fp32"),
                  garment_model=config.garment_model)
    with tempfile.TemporaryDirectory(prefix="fashionbot-bench-") as scratch:
        root = Path(scratch)
        thumbs_feed = _demo_feed(root / "thumbs.csv", config.thumbs)
        result["index_img_s_thumbs"], thumbs_index = _index_rate(engine, thumbs_feed, root / "idx-thumbs")
        photo_paths = make_photos(root / "photos", config.photos)
        photos_feed = _demo_feed(root / "photos.csv", config.photos, photo_paths)
        result["index_img_s_photos"], _ = _index_rate(engine, photos_feed, root / "idx-photos")
        result["index_ratio_thumbs"] = round(result["index_img_s_thumbs"] / result["raw_forward_img_s"], 3)
        result["index_ratio_photos"] = round(result["index_img_s_photos"] / result["raw_forward_img_s"], 3)
        blobs = [path.read_bytes() for path in photo_paths[:max(20, min(len(photo_paths), 64))]]
        result.update(asyncio.run(query_latency(engine, thumbs_index, blobs, config.queries,
                                                config.concurrent_rounds)))
        forward_ms = 1000 / result["raw_forward_img_s"]  # the eager forward every target is a multiple of
        for key in ("query_p50_ms", "query20_p95_ms", "framed_photo_p50_ms", "framed_photo20_p95_ms"):
            result[key.replace("_ms", "_forwards")] = round(result[key] / forward_ms, 2)
        result.update(bot_peak_rss(engine_config, thumbs_index, photo_paths[0]))
    del engine
    result["faiss"] = faiss_bench(engine_dim := result["dim"], config.faiss_items, config.faiss_queries,
                                  config.faiss_types, config.ivf_train_per_list)
    result["faiss_items"] = config.faiss_items
    result["faiss_dim"] = engine_dim
    auto = result["faiss"].get("auto", {})
    result["faiss_auto_ms_per_query"] = auto.get("ms_per_query")
    result["faiss_auto_recall_at_10"] = auto.get("recall_at_10")
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def raw_forward(engine, batch_size: int, seconds: float) -> float:
    """The model alone on random inputs at the engine's settings (device, dtype, memory format): images/s."""
    import torch

    height, width = engine.data_config["input_size"][1:]
    batch = torch.randn(batch_size, 3, height, width, device=engine.device)
    for _ in range(3):  # oneDNN / cuDNN pick their kernels on the first calls
        engine.embed_tensors(batch)
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        started = time.perf_counter()
        engine.embed_tensors(batch)  # ends with a copy to the host, so the GPU has finished
        times.append(time.perf_counter() - started)
    return batch_size / statistics.median(times)


def raw_forward_onnx(engine, batch_size: int, seconds: float, eager_img_s: float) -> dict:
    """The same backbone exported to ONNX, on ONNX Runtime — fp32, static int8 (calibrated on demo packshots
    and photos) and dynamic int8 — timed as :func:`raw_forward` times eager PyTorch: images/s, each as a
    multiple of the eager figure, and each int8's parity (median cosine to PyTorch on the demo images). CPU
    only (None on a GPU, where the runtime here has no CUDA provider)."""
    keys = ("raw_forward_onnx_img_s", "raw_forward_onnx_int8_img_s", "raw_forward_onnx_int8_dynamic_img_s")
    if engine.device.type != "cpu":
        return {key: None for key in keys}
    from engine.onnx_export import (
        OnnxBackbone,
        calibration_batch,
        demo_images,
        export_onnx,
        quantize_backbone,
        quantize_backbone_dynamic,
    )

    height, width = engine.data_config["input_size"][1:]
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, height, width), dtype=np.float32)
    images, photos = demo_images(engine)
    parity_batch = calibration_batch(engine, images, photos)
    import torch

    reference = engine.backbone_features(torch.from_numpy(parity_batch)).numpy()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="fashionbot-onnx-") as scratch:
        fp32 = export_onnx(engine, scratch).backbone
        static = quantize_backbone(fp32, Path(scratch) / "static.onnx",
                                   calibration_batch(engine, *demo_images(engine, catalog=160, offset=len(images))))
        dynamic = quantize_backbone_dynamic(fp32, Path(scratch) / "dynamic.onnx")
        for key, path in zip(keys, (fp32, static, dynamic), strict=True):
            runner = OnnxBackbone(path)

            def forward(runner=runner) -> None:  # what embed_tensors does after the backbone: unit rows
                features = runner(batch)
                features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)

            out[key] = round(batch_size / _median_seconds(forward, seconds), 1)
            out[key.replace("_img_s", "_ratio")] = round(out[key] / eager_img_s, 3)
            cosines = _cosines(runner(parity_batch), reference)
            out[key.replace("_img_s", "_cosine")] = round(float(np.median(cosines)), 4)
            del runner
    return out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(axis=1)


def _median_seconds(forward, seconds: float) -> float:
    for _ in range(3):
        forward()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        started = time.perf_counter()
        forward()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _demo_feed(path: Path, count: int, images: list[Path] | None = None) -> Path:
    """A Merchant CSV of the first ``count`` demo products, optionally pointing at other image files."""
    from catalog import read_feed, write_feed_csv
    from recommender.settings import DEMO_FEED

    products = read_feed(DEMO_FEED).products
    picked = [products[i % len(products)] for i in range(count)]
    if images is not None:
        picked = [replace(product, id=f"{product.id}-p{i}", image_link=str(images[i]))
                  for i, product in enumerate(picked)]
    elif count > len(products):
        picked = [replace(product, id=f"{product.id}-{i}") for i, product in enumerate(picked)]
    write_feed_csv(picked, path)
    return path


def make_photos(directory: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` realistic 1080×1440 product JPEGs (demo shots upscaled, with sensor grain, quality 90)."""
    from PIL import Image

    from catalog import read_feed
    from recommender.settings import DEMO_FEED

    directory.mkdir(parents=True, exist_ok=True)
    sources = [Path(product.image_link) for product in read_feed(DEMO_FEED).products]
    unique = min(count, 64)  # the files differ; their content repeats (decode cost does not depend on it)

    def one(i: int) -> bytes:
        rng = np.random.default_rng(seed + i)
        image = Image.open(sources[i % len(sources)]).convert("RGB").resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
        pixels = np.asarray(image, dtype=np.int16) + rng.integers(-8, 9, (*PHOTO_SIZE[::-1], 3), dtype=np.int16)
        out = io.BytesIO()
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
        return out.getvalue()

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        encoded = list(pool.map(one, range(unique)))
    paths = []
    for i in range(count):
        path = directory / f"photo-{i:05d}.jpg"
        path.write_bytes(encoded[i % unique])
        paths.append(path)
    return paths


def _index_rate(engine, feed: Path, out: Path) -> tuple[float, Path]:
    from recommender.indexing import build_index

    report = build_index(feed, out, engine)
    return round(report.items_per_s, 1), out


async def query_latency(engine, index_dir: Path, blobs: list[bytes], queries: int, rounds: int) -> dict:
    """One photo → ranked results as the bot gets them (decode, the pose detector, micro-batcher, embed, search:
    ``query_*``), and as one framed photo without the pose detector (the playground's and Discord's path, and
    every photo without a person: ``framed_photo_*``)."""
    from index import CatalogIndex
    from recommender import CatalogRecommender, RecommenderSettings

    recommender = CatalogRecommender(engine, RecommenderSettings(index=index_dir), CatalogIndex.open(index_dir))

    async def as_the_bot_asks(blob: bytes) -> float:
        started = time.perf_counter()
        regions = await recommender.photo_regions(blob)  # a person's garments, else the photo
        await recommender.search(regions[0].query, 6)
        return (time.perf_counter() - started) * 1000

    async def framed_photo(blob: bytes) -> float:
        started = time.perf_counter()
        await recommender.search(await recommender.photo(blob), 6)
        return (time.perf_counter() - started) * 1000

    result: dict = {}
    try:
        for prefix, one in (("query", as_the_bot_asks), ("framed_photo", framed_photo)):
            for blob in blobs[:3]:
                await one(blob)  # warm-up
            single = [await one(blobs[i % len(blobs)]) for i in range(queries)]
            concurrent: list[float] = []
            for round_ in range(rounds):
                concurrent += await asyncio.gather(*(one(blobs[(round_ * 20 + i) % len(blobs)]) for i in range(20)))
            result.update({f"{prefix}_p50_ms": round(percentile(single, 50), 1),
                           f"{prefix}_p99_ms": round(percentile(single, 99), 1),
                           f"{prefix}20_p95_ms": round(percentile(concurrent, 95), 1)})
    finally:
        await recommender.aclose()
    return {**result, "query_batches_run": recommender._batcher.batches_run}


def bot_peak_rss(engine_config, index_dir: Path, photo: Path) -> dict:
    """Peak RSS of a fresh bot-like process (engine and the demo index loaded, a few photos answered), and
    whether it imported torch."""
    code = (
        "import asyncio, sys\n"
        "from fashionbot.bench import peak_rss_mb\n"
        "from pathlib import Path\n"
        "from engine import EngineConfig, load_engine\n"
        "from index import CatalogIndex\n"
        "from recommender import CatalogRecommender\n"
        "from recommender.settings import RecommenderSettings\n"
        f"fields = {_plain_fields(engine_config)!r}\n"
        "fields['export_dir'] = fields['export_dir'] and Path(fields['export_dir'])\n"
        "engine = load_engine(EngineConfig(**fields))\n"
        f"index_dir = Path({str(index_dir)!r})\n"
        "async def main():\n"
        "    r = CatalogRecommender(engine, RecommenderSettings(index=index_dir), CatalogIndex.open(index_dir))\n"
        f"    blob = Path({str(photo)!r}).read_bytes()\n"
        "    for _ in range(5):\n"
        "        await r.search((await r.photo_regions(blob))[0].query, 6)\n"
        "    await r.aclose()\n"
        "asyncio.run(main())\n"
        "print(int('torch' in sys.modules), peak_rss_mb())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")})
    if done.returncode != 0:
        log.warning("bot RSS probe failed: %s", done.stderr[-2000:])
        return {"bot_peak_rss_mb": float("nan"), "bot_imports_torch": None}
    imports_torch, rss = done.stdout.strip().splitlines()[-1].split()
    return {"bot_peak_rss_mb": round(float(rss), 1), "bot_imports_torch": imports_torch == "1"}


def _plain_fields(config) -> dict:
    """An EngineConfig's fields as literals (paths as text), to rebuild it in another process."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in asdict(config).items()}


def faiss_bench(dim: int, n_items: int, n_queries: int, types: tuple[str, ...], train_per_list: int = 256) -> dict:
    """Flat vs HNSW vs IVF-PQ (with its SQ8 refine) on synthetic embeddings: build s, size, ms per single
    query, recall@10."""
    import faiss

    from index.build import build_vectors_index
    from index.choose import choose_index_key
    from index.search import tune_for_search

    vectors = synthetic_vectors(n_items + n_queries, dim)
    queries, vectors = vectors[:n_queries].copy(), vectors[n_queries:]
    exact_index = faiss.IndexFlatIP(dim)
    exact_index.add(vectors)
    _, exact = exact_index.search(queries, 10)
    del exact_index
    auto_key = choose_index_key(n_items, dim, "auto")
    out: dict = {}
    for index_type in types:
        key = choose_index_key(n_items, dim, index_type)
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        index = tune_for_search(build_vectors_index(vectors, key, train_per_list=train_per_list))
        build_s = time.perf_counter() - started
        entry = {"key": key, "build_s": round(build_s, 1),
                 "memory_mb": round(len(faiss.serialize_index(index)) / 2**20, 1) if n_items <= 200_000
                 else round(_index_bytes(index, n_items, dim) / 2**20, 1),
                 "peak_rss_growth_mb": round(peak_rss_mb() - rss_before, 1)}
        entry.update(_search_figures(index, queries, exact, single=20 if index_type == "flat" else n_queries))
        entry["sweep"] = _sweep(index, queries, exact)
        out[index_type] = entry
        if key == auto_key:
            out["auto"] = {"type": index_type, **{k: v for k, v in entry.items() if k != "sweep"}}
        del index
    return out


def _index_bytes(index, n_items: int, dim: int) -> int:
    """Bytes an index holds in memory, without serialising gigabytes to count them."""
    import faiss

    if hasattr(index, "hnsw"):
        links = faiss.vector_to_array(index.hnsw.offsets)[-1]
        return n_items * dim * 4 + int(links) * 4 + n_items * 8
    refine = faiss.downcast_index(index)
    refine_bytes = n_items * refine.refine_index.sa_code_size() if isinstance(refine, faiss.IndexRefine) else 0
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return n_items * (ivf.code_size + 8) + ivf.nlist * dim * 4 + refine_bytes
    return n_items * dim * 4


def _search_figures(index, queries: np.ndarray, exact: np.ndarray, single: int) -> dict:
    """ms per query one at a time (as the bot asks), and recall@10 over every query (batched)."""
    times = []
    for row in queries[:single]:
        started = time.perf_counter()
        index.search(row[None, :], 10)
        times.append((time.perf_counter() - started) * 1000)
    _, found = index.search(queries, 10)
    return {"ms_per_query": round(statistics.median(times), 3), "ms_per_query_p99": round(percentile(times, 99), 3),
            "recall_at_10": round(recall_at_k(found, exact), 4)}


def _sweep(index, queries: np.ndarray, exact: np.ndarray) -> list[dict]:
    """Recall and speed at other search-time settings (efSearch / nprobe / refine k_factor), to choose the
    served ones."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    refine = faiss.downcast_index(index)
    if ivf is not None and isinstance(refine, faiss.IndexRefine):
        return _refine_sweep(ivf, refine, queries, exact)
    if hasattr(index, "hnsw"):
        name, values, setter = "efSearch", (16, 32, 64, 128, 256), lambda v: setattr(index.hnsw, "efSearch", v)
        original = index.hnsw.efSearch
    elif ivf is not None:
        name, values, setter = "nprobe", (8, 16, 32, 64, 128), lambda v: setattr(ivf, "nprobe", v)
        original = ivf.nprobe
    else:
        return []
    rows = []
    for value in values:
        setter(value)
        started = time.perf_counter()
        _, found = index.search(queries, 10)
        batched_ms = (time.perf_counter() - started) * 1000 / len(queries)
        rows.append({name: value, "recall_at_10": round(recall_at_k(found, exact), 4),
                     "ms_per_query_batched": round(batched_ms, 3)})
    setter(original)
    return rows


def _refine_sweep(ivf, refine, queries: np.ndarray, exact: np.ndarray) -> list[dict]:
    """nprobe at the served k_factor, then k_factor at the served nprobe (IVF-PQ + refine)."""
    served = ivf.nprobe, refine.k_factor
    settings = [(nprobe, served[1]) for nprobe in (8, 16, 32, 64, 128)]
    settings += [(served[0], k_factor) for k_factor in (1, 5, 10, 20, 40) if k_factor != served[1]]
    rows = []
    for nprobe, k_factor in settings:
        ivf.nprobe, refine.k_factor = nprobe, k_factor
        started = time.perf_counter()
        _, found = refine.search(queries, 10)
        batched_ms = (time.perf_counter() - started) * 1000 / len(queries)
        rows.append({"nprobe": nprobe, "k_factor": k_factor, "recall_at_10": round(recall_at_k(found, exact), 4),
                     "ms_per_query_batched": round(batched_ms, 3)})
    ivf.nprobe, refine.k_factor = served
    return rows


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


def bench_command(*, device: str, quick: bool, as_json: bool, backbone: str, weights: str | None,
                  batch_size: int | None, runtime: str = "auto", precision: str = "fp32",
                  garment_model: str = "student") -> int:
    import json

    from engine.device import resolve_device

    overrides = {"device": device, "backbone": backbone, "weights": weights, "batch_size": batch_size,
                 "runtime": runtime, "precision": precision, "garment_model": garment_model}
    config = BenchConfig.for_device(quick, resolve_device(device).type, **overrides)
    result = run_bench(config)
    if as_json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        if key != "faiss":
            print(f"{key:<24} {value}")
    for index_type, entry in result["faiss"].items():
        figures = ", ".join(f"{k} {v}" for k, v in entry.items() if k != "sweep")
        print(f"faiss {index_type:<8} {figures}")
        for row in entry.get("sweep", []):
            print(f"    {row}")
    if result["random_weights"]:
        print("(speed figures with randomly initialised weights: pretrained ones could not be had offline)")
    return 0
