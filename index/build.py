"""Writing a new index build: vectors and records go to a fresh directory, published only when whole."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

from catalog.product import Product

from .choose import choose_index_key
from .records import read_label_report, relabel_records, write_records
from .store import PRODUCTS, VECTORS, Manifest, new_build_dir, publish

log = logging.getLogger(__name__)

# FAISS's default (40) is kept: at 1 M × 1280-d it reaches recall@10 ≥ 0.95 at efSearch 128 (BENCHMARKS.md).
HNSW_EF_CONSTRUCTION = 40


class IndexWriter:
    """Collects vectors with their products, then builds, saves and swaps in the index on commit.

    Used as a context manager, an exception before :meth:`commit` discards the partial build and
    leaves the index being served untouched.
    """

    def __init__(self, root: Path, *, fingerprint: str, dim: int, engine: dict | None = None,
                 index_type: str = "auto") -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.dim = dim
        self.engine = engine or {}
        self.index_type = index_type
        self.directory = new_build_dir(self.root)
        self._chunks: list[np.ndarray] = []
        self._product_ids: set[tuple[str, int]] = set()  # (product id, view)
        self.count = 0

    def add(self, vectors: np.ndarray, products: Sequence[Product], views: Sequence[int] | None = None) -> None:
        """One vector per row; ``views`` says which image of its product each row embeds (0, the main one,
        by default), so a product may come back once per image it has."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(vectors) != len(products):
            raise ValueError(f"expected ({len(products)}, {self.dim}) vectors, got {vectors.shape}")
        views = list(views) if views is not None else [0] * len(products)
        keys = [(p.id, view) for p, view in zip(products, views, strict=True)]
        duplicates = [key for key in keys if key in self._product_ids]
        if duplicates or len(set(keys)) != len(keys):
            raise ValueError(f"duplicate product ids in one index: {[key[0] for key in duplicates[:5]]}")
        write_records(self.directory / PRODUCTS, products, first_id=self.count, views=views)
        self._product_ids.update(keys)
        self._chunks.append(vectors)
        self.count += len(products)

    def relabel(self, products: Iterable[Product]) -> None:
        """Give products already added their final labels (every image's row), before :meth:`commit`."""
        relabel_records(self.directory / PRODUCTS, products)

    def commit(self, *, source: str = "", source_hash: str = "", skipped: int = 0,
               build_seconds: float = 0.0) -> Manifest:
        if self.count == 0:
            raise ValueError("no products could be indexed, so there is nothing to publish")
        vectors = np.concatenate(self._chunks)
        key = choose_index_key(self.count, self.dim, self.index_type)
        index = build_vectors_index(vectors, key)
        faiss.write_index(index, str(self.directory / VECTORS))
        labels = read_label_report(self.directory / PRODUCTS)
        manifest = Manifest(fingerprint=self.fingerprint, count=self.count, dim=self.dim, index_key=key,
                            engine=self.engine, source=source, source_hash=source_hash, skipped=skipped,
                            build_seconds=round(build_seconds, 3),
                            labels={"coverage": labels.coverage, "contradicted": len(labels.contradicted)})
        manifest.write(self.directory)
        final = publish(self.directory)
        log.info("published index %s: %d items, %s", final.name, self.count, key)
        self.directory = final
        return manifest

    def abort(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            log.warning("index build aborted (%s); the previous index keeps serving", exc_type.__name__)
            self.abort()


def build_vectors_index(vectors: np.ndarray, key: str, *, train_per_list: int = 256) -> faiss.Index:
    """A FAISS index of unit vectors (inner product) for a factory key, trained and filled.

    IVF indexes train on at most ``train_per_list`` random vectors per inverted list (k-means time grows
    with it; FAISS wants at least 39).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.index_factory(vectors.shape[1], key, faiss.METRIC_INNER_PRODUCT)
    hnsw = getattr(index, "hnsw", None)
    if hnsw is not None:
        hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if not index.is_trained:
        ivf = faiss.try_extract_index_ivf(index)
        concrete = faiss.downcast_index(ivf) if ivf is not None else None
        if isinstance(concrete, faiss.IndexIVFPQ):
            # Polysemous codes are for Hamming-filtered search, which we never switch on; training them
            # is ~80% of an IVF-PQ build (50 of 64 s at 100 k × 1280 on two cores).
            concrete.do_polysemous_training = False  # type: ignore[attr-defined]  # a real field faiss's stub omits
        limit = ivf.nlist * max(39, train_per_list) if ivf is not None else len(vectors)
        sample = vectors
        if len(vectors) > limit:
            sample = vectors[np.sort(np.random.default_rng(0).choice(len(vectors), limit, replace=False))]
        index.train(sample)
    index.add(vectors)
    return index
