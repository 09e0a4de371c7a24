"""Looking at an embedding: a 2-D map of the catalog (PCA then t-SNE) and a TensorBoard projector export."""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.product import Product
from engine import Engine
from recommender.attributes import PRODUCT_LABELS

from .cache import ViewRecipe, compute_features

log = logging.getLogger(__name__)

MAX_LEGEND = 14  # the most frequent categories get a colour each; the rest are grey "other"


def catalog_vectors(engine: Engine, products: Sequence[Product], cache_root: Path) -> np.ndarray:
    """The vectors the engine would index for these products (the learned projection when it has a head)."""
    features = compute_features(engine, {p.id: Path(p.image_link) for p in products}, ViewRecipe(views=0),
                                cache_root, progress=False).clean
    if engine.head is not None:
        return engine.head.head.infer(features)[0]
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def layout_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """PCA to at most 50 dimensions, then t-SNE to 2 (cosine geometry, perplexity fitted to the size)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    n = len(vectors)
    if n < 3:
        return np.zeros((n, 2))
    reduced = PCA(n_components=min(50, n - 1, vectors.shape[1]), random_state=seed).fit_transform(vectors)
    perplexity = float(min(30, max(2, (n - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(reduced)


def draw_map(points: np.ndarray, products: Sequence[Product], path: Path, title: str, *,
             mosaic: bool = False) -> Path:
    """A scatter of the catalog coloured by category; with ``mosaic``, each product's thumbnail at its point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = [PRODUCT_LABELS["category"](p) or "?" for p in products]
    common = [label for label, _ in Counter(categories).most_common(MAX_LEGEND)]
    palette = plt.get_cmap("tab20")
    figure, axes = plt.subplots(figsize=(14, 12) if mosaic else (11, 9))
    for number, label in enumerate([*common, "other"]):
        rows = [i for i, c in enumerate(categories) if (c == label if label != "other" else c not in common)]
        if rows:
            colour = "lightgrey" if label == "other" else palette(number % 20)
            axes.scatter(points[rows, 0], points[rows, 1], s=60 if mosaic else 14, color=colour,
                         label=f"{label} ({len(rows)})", alpha=0.9, edgecolors="none")
    if mosaic:
        from matplotlib.offsetbox import AnnotationBbox, OffsetImage

        for product, (x, y) in zip(products, points, strict=True):
            with Image.open(product.image_link) as image:
                image.thumbnail((28, 28))
                box = AnnotationBbox(OffsetImage(np.asarray(image.convert("RGB"))), (x, y), frameon=False)
            axes.add_artist(box)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=1.5)
    axes.set_title(title, fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return Path(path)


def export_projector(vectors: np.ndarray, products: Sequence[Product], directory: Path,
                     thumbnail: int = 48) -> Path:
    """Files for the TensorBoard embedding projector: vectors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt.

    Load them at https://projector.tensorflow.org ("Load") or point TensorBoard's ``--logdir`` at the directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savetxt(directory / "vectors.tsv", vectors, delimiter="\t", fmt="%.5f")
    with (directory / "metadata.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "category", "colour", "gender", "usage", "title"])
        for p in products:
            writer.writerow([p.id, *(PRODUCT_LABELS[name](p) for name in ("category", "colour", "gender", "usage")),
                             p.title.replace("\t", " ")])
    side = max(1, math.ceil(math.sqrt(len(products))))
    sprite = Image.new("RGB", (side * thumbnail, side * thumbnail), "white")
    for position, product in enumerate(products):
        with Image.open(product.image_link) as image:
            tile = image.convert("RGB")
            tile.thumbnail((thumbnail, thumbnail))
        x, y = (position % side) * thumbnail, (position // side) * thumbnail
        sprite.paste(tile, (x + (thumbnail - tile.width) // 2, y + (thumbnail - tile.height) // 2))
    sprite.save(directory / "sprite.png")
    (directory / "projector_config.pbtxt").write_text(
        "embeddings {\n  tensor_path: \"vectors.tsv\"\n  metadata_path: \"metadata.tsv\"\n"
        f"  sprite {{\n    image_path: \"sprite.png\"\n    single_image_dim: {thumbnail}\n"
        f"    single_image_dim: {thumbnail}\n  }}\n}}\n")
    log.info("projector files for %d products in %s", len(products), directory)
    return directory
