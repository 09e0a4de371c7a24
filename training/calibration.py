"""When is nothing in the catalog close to a photo? A threshold on the best match's similarity, calibrated.

The threshold is set on real photos of clothing (validation photographers' at training time): the level that
all but ``REFUSED_SHARE`` of them reach, so few real garment photos are ever turned away. It is checked on
real photos that are not clothing and ship offline — scikit-image's sample pictures (an astronaut, a cat,
coffee, coins, a rocket, text, the moon…) — and on photos of garments whose kind the catalog lacks
(`fashionbot eval` reports both: false refusals and false matches).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Real garment photos allowed below the threshold when it is set (about one in fifty).
REFUSED_SHARE = 0.02
# scikit-image's sample pictures that are photographs of things other than clothing and ship with the package.
NON_FASHION = ("astronaut", "camera", "cat", "coffee", "coins", "horse", "hubble_deep_field", "moon", "page",
               "rocket", "text", "immunohistochemistry", "retina", "logo", "clock", "colorwheel", "cell", "brick",
               "grass", "gravel")


def best_similarity(query_vectors: np.ndarray, catalog_vectors: np.ndarray) -> np.ndarray:
    """Each query's cosine to its closest catalog vector (both sides unit vectors)."""
    if not len(catalog_vectors):
        return np.full(len(query_vectors), -1.0, np.float32)
    return (np.asarray(query_vectors, np.float32) @ np.asarray(catalog_vectors, np.float32).T).max(axis=1)


def calibrate(garment_similarities: np.ndarray, refused_share: float = REFUSED_SHARE) -> float:
    """The threshold that only ``refused_share`` of these garment photos fall below."""
    if not len(garment_similarities):
        raise ValueError("calibrating needs garment photos")
    return float(np.quantile(np.asarray(garment_similarities, np.float64), refused_share))


def non_fashion_photos() -> list[tuple[str, Image.Image]]:
    """scikit-image's offline sample photographs that show no clothing, as RGB images (empty without it)."""
    try:
        from skimage import data
    except ImportError:
        return []
    photos = []
    for name in NON_FASHION:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            photos.append((name, Image.fromarray(loader()).convert("RGB")))
        except Exception:  # noqa: BLE001 — a picture that needs a download is simply left out offline
            continue
    return photos
