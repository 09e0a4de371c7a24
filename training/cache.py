"""Bottleneck cache: backbone features of catalog images and of user-like views of them, kept on disk.

Each image's features live in one ``.npy`` file named by the image's content hash, under a directory
named by the backbone fingerprint and the view recipe, so a cache is computed once, grows
incrementally, and is never mixed up with another backbone's or another recipe's features.
Row 0 is the clean image, row 1 its mirror image, rows 2… the user-like views.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from engine import Engine

from .views import user_view

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


def cache_dir(root: Path, backbone_fingerprint: str, recipe: ViewRecipe) -> Path:
    return Path(root) / backbone_fingerprint / f"views-{recipe.views}-{recipe.key()}"


def render_views(image: Image.Image, recipe: ViewRecipe, key: str) -> list[Image.Image]:
    """The clean image, its mirror, then ``recipe.views`` user-like views; the same for the same key."""
    rng = np.random.default_rng([recipe.seed, int(key[:12], 16)])
    mirrored = ImageOps.mirror(image)
    out = [image, mirrored]
    for _ in range(recipe.views):
        source = mirrored if rng.random() < recipe.mirror_share else image
        preset = "hard" if rng.random() < recipe.hard_share else "easy"
        out.append(user_view(source, rng, preset))
    return out


def compute_features(engine: Engine, image_paths: dict[str, Path], recipe: ViewRecipe, root: Path, *,
                     progress: bool = True) -> CachedFeatures:
    """Features for every ``id → image path``, computing only what the cache lacks.

    View rendering (PIL, numpy) runs one image ahead of the forward pass, on a worker thread.
    """
    directory = cache_dir(root, engine.features_fingerprint, recipe)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "recipe.json").write_text(json.dumps({"backbone": engine.backbone_name, **asdict(recipe)}))
    ids = list(image_paths)
    keys = {item: image_key(image_paths[item]) for item in ids}
    missing = [item for item in ids if not (directory / f"{keys[item]}.npy").is_file()]
    log.info("feature cache %s: %d of %d images cached, computing %d (%d views each)",
             directory, len(ids) - len(missing), len(ids), len(missing), recipe.views)

    def render(item: str) -> list[Image.Image]:
        with Image.open(image_paths[item]) as source:
            return render_views(source.convert("RGB"), recipe, keys[item])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="views") as pool:
        pending = pool.submit(render, missing[0]) if missing else None
        for position, item in enumerate(tqdm(missing, desc="feature cache", unit="img", disable=not progress)):
            images = pending.result()
            if position + 1 < len(missing):
                pending = pool.submit(render, missing[position + 1])
            features = engine.backbone_features(engine.preprocess(images)).numpy().astype(np.float16)
            temporary = directory / f"{keys[item]}.tmp.npy"
            np.save(temporary, features)
            temporary.replace(directory / f"{keys[item]}.npy")
    if missing:
        log.info("computed %d images × %d views in %.0f s", len(missing), recipe.views + 2,
                 time.perf_counter() - started)
    stacked = np.stack([np.load(directory / f"{keys[item]}.npy") for item in ids]).astype(np.float32) \
        if ids else np.zeros((0, recipe.views + 2, 0), np.float32)
    return CachedFeatures(ids, stacked[:, 0], stacked[:, 1], stacked[:, 2:])


def held_out_digest(rows: Sequence) -> str:
    """A short digest of a hold-out's ids: artifacts record it, the evaluation checks it."""
    return hashlib.sha256(",".join(sorted(row.id for row in rows)).encode()).hexdigest()[:16]


def query_features(engine: Engine, queries: Sequence, root: Path, key: str) -> np.ndarray:
    """Backbone features of evaluation photos (objects with ``.image``), cached under ``key``."""
    path = Path(root) / engine.features_fingerprint / f"queries-{key}-{len(queries)}.npy"
    if path.is_file():
        return np.load(path).astype(np.float32)
    size = engine.config.batch_size
    features = np.concatenate([engine.backbone_features(engine.preprocess([q.image for q in queries[i:i + size]]))
                               .numpy() for i in range(0, len(queries), size)])
    path.parent.mkdir(parents=True, exist_ok=True)
    features = features.astype(np.float16)
    np.save(path, features)
    return features.astype(np.float32)
