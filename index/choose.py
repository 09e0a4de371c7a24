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
# IVF-PQ alone tops out at recall@10 ≈ 0.61 (PQ64x8 codes, 20 dims a byte, whatever nprobe); re-ranking its
# top k·k_factor with 8-bit scalar-quantised vectors (d bytes each) lifts it to 0.98–0.99 (BENCHMARKS.md), at
# 1 280 + 64 + 8 bytes an item of 1280-d: 1.375 GB per million measured, against HNSW32's 5.1 GB.
IVFPQ_REFINE = "Refine(SQ8)"
# From this many lists on, the coarse quantizer is itself an HNSW graph: a flat one costs lists·d
# multiply-adds per vector added and per query (4 096 lists of 1280-d: 5 M a
# vector, 5 T for 1 M items, many minutes on two cores).
IVF_HNSW_QUANTIZER_MIN_LISTS = 2048
# Refined IVF-PQ search knobs, measured on 1280-d synthetic embeddings (BENCHMARKS.md). nprobe: recall@10
# does not move from 16 to 64 lists at 100 k or 1 M (the refine's candidate count is the limit), 32 keeps a
# margin. k_factor: 10 gives 0.992 at 100 k but 0.947 at 1 M; 20 gives 0.980 at 1 M (0.73 ms a query).
IVF_NPROBE = 32
REFINE_K_FACTORS = ((250_000, 10), (HNSW_MAX_ITEMS, 20))
# Beyond 3 M (not measured): doubled again, as from 100 k to 1 M; +0.1 ms a doubling at 1 M.
REFINE_K_FACTOR_LARGEST = 40


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
    lists = ivf_lists(n_items)
    quantizer = f"_HNSW{HNSW_NEIGHBOURS}" if lists >= IVF_HNSW_QUANTIZER_MIN_LISTS else ""
    return f"IVF{lists}{quantizer},PQ{pq_subquantizers(dim)}x8,{IVFPQ_REFINE}"


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


def ivf_nprobe(n_items: int) -> int:
    """Inverted lists an IVF search probes (recall@10 is flat from 16 to 64 at 100 k and 1 M items)."""
    return IVF_NPROBE


def refine_k_factor(n_items: int) -> int:
    """How many times k candidates the PQ stage hands to the SQ8 re-rank, for recall@10 ≥ 0.95.

    >>> refine_k_factor(1_000_000)
    20
    """
    for max_items, k_factor in REFINE_K_FACTORS:
        if n_items <= max_items:
            return k_factor
    return REFINE_K_FACTOR_LARGEST
