"""Labelled query photos for validation and evaluation: generated views of catalog products and real photos.

Each generator's photos carry its own preset names, so tables say where a number comes from: ``easy`` and
``hard`` are the training generator's (``views.py``), ``indep-easy`` and ``indep-hard`` the independent
generator's (``eval_views.py``), ``real`` real photos that other people took.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from catalog.product import Product

from .data import load_rgb
from .eval_views import eval_photo
from .metrics import REAL, EvalQuery, query_labels
from .parallel import render_all
from .real_photos import RealPhoto
from .views import user_view

INDEPENDENT = ("indep-easy", "indep-hard")


def independent_queries(products: Sequence[Product], *, per_preset: int = 1, seed: int = 0,
                        workers: int | None = None) -> list[EvalQuery]:
    """Photos of each product from the independent generator, ``per_preset`` easy and as many hard ones; the
    same products and seed give the same photos (each product has its own random stream)."""
    photos = render_all([(product.image_link, per_preset, [seed, 20261204, index])
                         for index, product in enumerate(products)], _independent_photos, workers)
    return [EvalQuery(product.id, *query_labels(product), preset, photo)
            for product, shots in zip(products, photos, strict=True) for preset, photo in shots]


def _independent_photos(path: str, per_preset: int, seed: list[int]) -> list[tuple[str, Image.Image]]:
    rng, image = np.random.default_rng(seed), load_rgb(path)
    return [(preset, eval_photo(image, rng, preset.removeprefix("indep-")))
            for preset in INDEPENDENT for _ in range(per_preset)]


def training_generator_queries(products: Sequence[Product], *, seed: int = 0) -> list[EvalQuery]:
    """One easy and one hard photo of each product from the training generator (the first evaluation's rows)."""
    rng = np.random.default_rng(seed)
    return [EvalQuery(product.id, *query_labels(product), preset, user_view(load_rgb(product.image_link), rng, preset))
            for product in products for preset in ("easy", "hard")]


def real_queries(photos: Sequence[RealPhoto]) -> list[EvalQuery]:
    """Real photos as queries: no catalog product is the one photographed, so only labels are scored."""
    return [EvalQuery(photo.id, photo.categories[0], photo.colour, photo.gender, REAL, photo.image(),
                      article_types=photo.categories, exact=False) for photo in photos]
