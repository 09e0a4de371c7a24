"""Bottleneck cache: backbone features of catalog images and of user-like views of them, kept on disk.

Each image's features live in one ``.npy`` file named by the image's content hash, under a directory
named by the backbone fingerprint, the view recipe and the engine's query framing, so a cache is computed
once, grows incrementally, and is never mixed up with another backbone's, recipe's or framing's features.
Row 0 is the clean image, row 1 its mirror image (both framed whole, as packshots are), rows 2… the
user-like views, framed as the engine frames user photos (``Engine.photo_features``). Views are rendered in
worker processes, a few images ahead of the forward pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from engine import Engine

from .data import load_rgb
from .parallel import default_workers, worker_pool
from .views import Preset, user_view

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass(frozen=True)
class ViewRecipe:
    """How many user-like views of each image, and how they are drawn (deterministic per image)."""

    views: int = 16
    hard_share: float = 0.5  # the rest are "easy"
    mirror_share: float = 0.5  # views of the mirrored product (people photograph either side)
    seed: int = 1

    def key(self) -> str:
        fields = {"cache_version": CACHE_VERSION, **asdict(self)}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class CachedFeatures:
    """Backbone features per item: ``clean`` (N, D), ``mirror`` (N, D) and ``views`` (N, V, D), float32."""

    ids: list[str]
    clean: np.ndarray
    mirror: np.ndarray
    views: np.ndarray

    def subset(self, ids: Sequence[str]) -> CachedFeatures:
        where = {item: position for position, item in enumerate(self.ids)}
        rows = np.array([where[item] for item in ids], dtype=np.int64)
        return CachedFeatures(list(ids), self.clean[rows], self.mirror[rows], self.views[rows])


def image_key(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def cache_dir(root: Path, backbone_fingerprint: str, recipe: ViewRecipe, framing: str = "whole") -> Path:
    # Packshots are framed whole whatever the query framing: a cache of them alone (views=0) is shared.
    suffix = "" if framing == "whole" or recipe.views == 0 else f"-{framing.replace('+', '_')}"
    return Path(root) / backbone_fingerprint / f"views-{recipe.views}-{recipe.key()}{suffix}"


def render_views(image: Image.Image, recipe: ViewRecipe, key: str) -> list[Image.Image]:
    """The clean image, its mirror, then ``recipe.views`` user-like views; the same for the same key."""
    rng = np.random.default_rng([recipe.seed, int(key[:12], 16)])
    mirrored = ImageOps.mirror(image)
    out = [image, mirrored]
    for _ in range(recipe.views):
        source = mirrored if rng.random() < recipe.mirror_share else image
        preset: Preset = "hard" if rng.random() < recipe.hard_share else "easy"
        out.append(user_view(source, rng, preset))
    return out


def _render(path: Path, recipe: ViewRecipe, key: str) -> list[Image.Image]:
    return render_views(load_rgb(path), recipe, key)


def compute_features(engine: Engine, image_paths: dict[str, Path], recipe: ViewRecipe, root: Path, *,
                     progress: bool = True, workers: int | None = None) -> CachedFeatures:
    """Features for every ``id → image path``, computing only what the cache lacks.

    Views are rendered by ``workers`` processes (default: one per core but one, at most 16) while the model runs.
    """
    directory = cache_dir(root, engine.features_fingerprint, recipe, engine.framing_key)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "recipe.json").write_text(json.dumps({"backbone": engine.backbone_name, **asdict(recipe),
                                                       "framing": engine.framing_key}))
    ids = list(image_paths)
    keys = {item: image_key(image_paths[item]) for item in ids}
    missing = [item for item in ids if not (directory / f"{keys[item]}.npy").is_file()]
    log.info("feature cache %s: %d of %d images cached, computing %d (%d views each)",
             directory, len(ids) - len(missing), len(ids), len(missing), recipe.views)

    started = time.perf_counter()
    workers = workers or default_workers()
    with worker_pool(workers) as pool:
        ahead = 2 * workers
        pending = [pool.submit(_render, image_paths[item], recipe, keys[item]) for item in missing[:ahead]]
        for position, item in enumerate(tqdm(missing, desc="feature cache", unit="img", disable=not progress)):
            images = pending[position].result()
            if position + ahead < len(missing):
                upcoming = missing[position + ahead]
                pending.append(pool.submit(_render, image_paths[upcoming], recipe, keys[upcoming]))
            packshots = engine.backbone_features(engine.preprocess(images[:2]))
            views = engine.photo_features(images[2:]) if len(images) > 2 else packshots[:0]
            # np.asarray: a torch engine's CPU tensors and an ONNX Runtime engine's arrays alike
            features = np.concatenate([np.asarray(packshots), np.asarray(views)]).astype(np.float16)
            temporary = directory / f"{keys[item]}.tmp.npy"
            np.save(temporary, features)
            temporary.replace(directory / f"{keys[item]}.npy")
    if missing:
        log.info("computed %d images × %d views in %.0f s", len(missing), recipe.views + 2,
                 time.perf_counter() - started)
    stacked = np.stack([np.load(directory / f"{keys[item]}.npy") for item in ids]).astype(np.float32) \
        if ids else np.zeros((0, recipe.views + 2, 0), np.float32)
    return CachedFeatures(ids, stacked[:, 0], stacked[:, 1], stacked[:, 2:])


def augment_photo(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Another shot of a real photo: a random crop (55–100 % of the area, aspect 3:4 to 4:3), turned a little,
    mirrored half the time, exposure and white balance moved a little."""
    width, height = photo.size
    area = rng.uniform(0.55, 1.0) * width * height
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    w, h = min(int(np.sqrt(area * aspect)), width), min(int(np.sqrt(area / aspect)), height)
    left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    shot = photo.crop((left, top, left + w, top + h)).rotate(rng.uniform(-8, 8), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        shot = ImageOps.mirror(shot)
    gain = (1 + rng.uniform(-0.15, 0.15)) * (1 + rng.uniform(-0.06, 0.06, 3))
    pixels = np.asarray(shot, np.float32) * gain.astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def shots_of(photo: Image.Image, count: int, rng: np.random.Generator) -> list[Image.Image]:
    """The photo as taken, then ``count - 1`` :func:`augment_photo` shots of it."""
    return [photo] + [augment_photo(photo, rng) for _ in range(count - 1)]


def compute_photo_features(engine: Engine, photos: Sequence, shots: int, root: Path, *,
                           progress: bool = True) -> np.ndarray:
    """(N, shots, D) features of real photos (objects with ``.path`` and ``.image()``): shot 0 is the photo as
    taken, the others :func:`augment_photo` of it; framed as the engine frames user photos; cached per photo."""
    directory = Path(root) / engine.features_fingerprint / f"photos-{shots}-{engine.framing_key.replace('+', '_')}"
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for photo in tqdm(photos, desc="photo features", unit="photo", disable=not progress):
        key = image_key(photo.path)
        path = directory / f"{key}.npy"
        if not path.is_file():
            taken = shots_of(photo.image(), shots, np.random.default_rng(int(key[:12], 16)))
            np.save(directory / f"{key}.tmp.npy", engine.photo_features(taken).numpy().astype(np.float16))
            (directory / f"{key}.tmp.npy").replace(path)
        rows.append(np.load(path))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, shots, 0), np.float32)


def held_out_digest(rows: Sequence) -> str:
    """A short digest of a hold-out's ids: artifacts record it, the evaluation checks it."""
    return hashlib.sha256(",".join(sorted(row.id for row in rows)).encode()).hexdigest()[:16]


def query_features(engine: Engine, images: Sequence[Image.Image], root: Path, key: str) -> np.ndarray:
    """Features of evaluation photos, framed as the engine frames user photos, cached under ``key``."""
    path = Path(root) / engine.features_fingerprint / f"queries-{key}-{len(images)}-{engine.framing_key}.npy"
    if path.is_file():
        return np.load(path).astype(np.float32)
    size = engine.config.batch_size
    features = np.concatenate([np.asarray(engine.photo_features(images[i:i + size]))
                               for i in range(0, len(images), size)]) if images else np.zeros((0, 0), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    features = features.astype(np.float16)
    np.save(path, features)
    return features.astype(np.float32)
