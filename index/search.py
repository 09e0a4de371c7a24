"""Opening a published index read-only and searching it, with attribute filters and paging."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from catalog.product import Product

from .choose import hnsw_ef_search, ivf_nprobe, refine_k_factor
from .errors import FingerprintMismatchError
from .records import CatalogLabels, Filters, LabelReport, ProductRecords
from .store import PRODUCTS, VECTORS, Manifest, resolve_build

log = logging.getLogger(__name__)


@dataclass(frozen=True, init=False)
class SearchHit:
    """One result. ``score`` is what results are ranked by (descending); ``similarity`` is the visual cosine of
    the photo and the product's closest image, the same as ``score`` until something re-ranks the hits."""

    product: Product
    score: float
    rank: int
    similarity: float

    # Written out so that ``similarity`` may be left out yet reads as a float, never None.
    def __init__(self, product: Product, score: float, rank: int, similarity: float | None = None) -> None:
        object.__setattr__(self, "product", product)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "similarity", score if similarity is None else similarity)


# Up to this many matching items a filtered query is scored exactly (20 k × 1280-d ≈ 100 MB touched, ~20 ms).
EXACT_FILTERED_MAX = 20_000


def tune_for_search(vectors: faiss.Index) -> faiss.Index:
    """Set the search-time parameters the served index uses (from its size); returns the same index."""
    if hasattr(vectors, "hnsw"):
        vectors.hnsw.efSearch = hnsw_ef_search(vectors.ntotal)
    ivf = faiss.try_extract_index_ivf(vectors)
    if ivf is not None:
        ivf.nprobe = ivf_nprobe(vectors.ntotal)
    refine = faiss.downcast_index(vectors)
    if isinstance(refine, faiss.IndexRefine):  # IVF-PQ candidates re-ranked by the SQ8 (or flat) vectors
        refine.k_factor = refine_k_factor(vectors.ntotal)
    return vectors


def restricted_to(vectors: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Search parameters that keep ``selector``'s ids only and the served knobs (a refine index accepts only
    its own parameter type, whose nprobe and k_factor must then be given again)."""
    # The call-arg ignores: faiss's stubs give these classes no-argument __init__s, but its SWIG wrappers take
    # any field as a keyword (faiss/class_wrappers.py, handle_SearchParameters).
    refine = faiss.downcast_index(vectors)
    if not isinstance(refine, faiss.IndexRefine):
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    ivf = faiss.try_extract_index_ivf(vectors)
    base = (faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe) if ivf is not None  # type: ignore[call-arg]
            else faiss.SearchParameters(sel=selector))  # type: ignore[call-arg]
    return faiss.IndexRefineSearchParameters(k_factor=refine.k_factor, base_index_params=base)  # type: ignore[call-arg]


class CatalogIndex:
    """A published build: FAISS vectors (inner product on unit vectors = cosine) plus product records."""

    def __init__(self, directory: Path, manifest: Manifest, vectors: faiss.Index,
                 records: ProductRecords) -> None:
        self.directory = directory
        self.manifest = manifest
        self._vectors = vectors
        self._records = records

    @classmethod
    def open(cls, root: Path, expected_fingerprint: str | None = None) -> CatalogIndex:
        directory = resolve_build(Path(root))
        manifest = Manifest.read(directory)
        if expected_fingerprint and manifest.fingerprint != expected_fingerprint:
            built_by = manifest.engine.get("backbone", "another engine")
            raise FingerprintMismatchError(
                f"the index at {root} was built by a different engine ({built_by}, fingerprint "
                f"{manifest.fingerprint}) than the one loaded now (fingerprint {expected_fingerprint}); "
                f"its vectors are not comparable. Rebuild it with: fashionbot index build "
                f"--catalog {manifest.source or 'FEED'} --out {root}"
            )
        vectors = tune_for_search(faiss.read_index(str(directory / VECTORS), faiss.IO_FLAG_READ_ONLY))
        ivf = faiss.try_extract_index_ivf(vectors)
        if ivf is not None:
            ivf.make_direct_map()  # filtered search re-scores allowed items by id
        return cls(directory, manifest, vectors, ProductRecords(directory / PRODUCTS))

    def __len__(self) -> int:
        """Products served (a product with several images has a vector per image)."""
        return self._records.product_count

    @property
    def vector_count(self) -> int:
        return self._vectors.ntotal

    @property
    def dim(self) -> int:
        return self._vectors.d

    def search(self, vectors: np.ndarray, k: int, offset: int = 0,
               filters: Filters | None = None) -> list[list[SearchHit]]:
        """Ranked hits ``offset .. offset+k`` for each query row, best first, each product once.

        With filters, only matching items are ranked, and k of them come back whenever k exist. A product
        with several images ranks by the one closest to the query.
        """
        if k < 1 or offset < 0:
            raise ValueError(f"need k >= 1 and offset >= 0, got k={k}, offset={offset}")
        queries = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ValueError(f"query vectors have {queries.shape[1]} dims, the index has {self.dim}")
        # Enough rows for offset + k distinct products even if each had its most images among them.
        wanted = min((offset + k) * max(self._records.max_views, 1), self.vector_count)
        if filters:
            scores, ids = self._filtered_search(queries, wanted, filters)
        else:
            scores, ids = self._vectors.search(queries, wanted) if wanted else self._empty(len(queries))
        return [self._hits(row_scores, row_ids)[offset:offset + k]
                for row_scores, row_ids in zip(scores, ids, strict=True)]

    def _filtered_search(self, queries: np.ndarray, wanted: int, filters: Filters):
        allowed = self._records.matching_ids(filters)
        wanted = min(wanted, len(allowed))
        if wanted == 0:
            return self._empty(len(queries))
        if len(allowed) > EXACT_FILTERED_MAX:
            selector = faiss.IDSelectorBatch(allowed)  # kept referenced: params hold only a pointer to it
            scores, ids = self._vectors.search(queries, wanted, params=restricted_to(self._vectors, selector))
            if (ids >= 0).all():
                return scores, ids
            # A graph walk restricted to a sparse subset can run dry before it finds k matches.
        return self._exact_among(queries, allowed, wanted)

    def _exact_among(self, queries: np.ndarray, allowed: np.ndarray, wanted: int):
        """Exact top ``wanted`` among the allowed ids: cheaper than a selective graph walk for a few thousand."""
        candidates = self._vectors.reconstruct_batch(allowed)
        all_scores = queries @ candidates.T
        order = np.argsort(-all_scores, axis=1, kind="stable")[:, :wanted]
        return np.take_along_axis(all_scores, order, axis=1), allowed[order]

    @staticmethod
    def _empty(rows: int):
        return np.zeros((rows, 0), dtype=np.float32), np.zeros((rows, 0), dtype=np.int64)

    def _hits(self, scores: np.ndarray, ids: np.ndarray) -> list[SearchHit]:
        """Hits from rank 0, each product at its best-scoring row only."""
        valid = [(float(s), int(i)) for s, i in zip(scores, ids, strict=True) if i >= 0]
        products = self._records.get_many([i for _, i in valid])
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for score, i in valid:
            product = products.get(i)
            if product is not None and product.id not in seen:
                seen.add(product.id)
                hits.append(SearchHit(product, score, len(hits)))
        return hits

    def vector(self, product_id: str) -> np.ndarray | None:
        faiss_id = self._records.faiss_id_of(product_id)
        # faiss's stub lists reconstruct's torch overload first, so an int key reads as returning a Tensor.
        return None if faiss_id is None else self._vectors.reconstruct(faiss_id)  # type: ignore[return-value]

    def labels(self) -> CatalogLabels:
        return self._records.labels()

    def label_report(self) -> LabelReport:
        """Where the products' labels came from, and the products whose packshots contradict their feed."""
        return self._records.label_report()

    def centroid(self, filters: Filters) -> np.ndarray | None:
        """The unit mean of the matching products' vectors (what a collection looks like); None for no match."""
        allowed = self._records.matching_ids(filters)
        if not len(allowed):
            return None
        mean = self._vectors.reconstruct_batch(allowed).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm).astype(np.float32) if norm > 0 else None

    def close(self) -> None:
        self._records.close()
