"""Pure choice of a FAISS index for a catalog's size and vector width."""

from __future__ import annotations

import math

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")

# Exact search is memory-bound: about 0.4 ms per 1 000 items of 1280-d on two cores (40 ms at 100 k), so
# it stays under 10 ms up to here; beyond it a graph pays off.
FLAT_MAX_ITEMS = 20_000
# HNSW keeps full vectors (4·d bytes each plus the graph); past a few million items that memory is
# the limit and compressed IVF-PQ takes over.
HNSW_MAX_ITEMS = 3_000_000
HNSW_NEIGHBOURS = 32


def choose_index_key(n_items: int, dim: int, index_type: str = "auto") -> str:
    """FAISS ``index_factory`` key for ``n_items`` vectors of width ``dim``.

    >>> choose_index_key(800, 1280)
    'Flat'
    """
    if index_type not in INDEX_TYPES:
        raise ValueError(f"index type must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    if n_items < 0 or dim < 1:
        raise ValueError(f"need n_items >= 0 and dim >= 1, got n_items={n_items}, dim={dim}")
    if index_type == "auto":
        if n_items <= FLAT_MAX_ITEMS:
            index_type = "flat"
        elif n_items <= HNSW_MAX_ITEMS:
            index_type = "hnsw"
        else:
            index_type = "ivfpq"
    if index_type == "flat":
        return "Flat"
    if index_type == "hnsw":
        return f"HNSW{HNSW_NEIGHBOURS},Flat"
    return f"IVF{ivf_lists(n_items)},PQ{pq_subquantizers(dim)}x8"


def hnsw_ef_search(n_items: int) -> int:
    """The HNSW32 search breadth that keeps recall@10 ≥ 0.95 (measured on 1280-d synthetic embeddings).

    At 100 k items 128 gives 0.9995; at 1 M it gives only 0.938, while 256 gives 0.959 at 1.1 ms a query
    on two cores (BENCHMARKS.md).
    """
    return 128 if n_items <= 250_000 else 256


def ivf_lists(n_items: int) -> int:
    """About 4·√n inverted lists, a power of two, with at least 39 training points per list."""
    target = 4 * math.sqrt(max(n_items, 1))
    lists = 2 ** max(0, round(math.log2(target)))
    while lists > 1 and n_items < 39 * lists:
        lists //= 2
    return lists


def pq_subquantizers(dim: int) -> int:
    """The largest divisor of ``dim`` up to dim/8 and 64: 8+ dims per sub-vector, 64 bytes at most."""
    for m in range(min(64, max(1, dim // 8)), 0, -1):
        if dim % m == 0:
            return m
    return 1
