"""Index choice is a pure function of size and width: tested from a table."""

from __future__ import annotations

import pytest

from index import choose_index_key
from index.choose import hnsw_ef_search, ivf_lists, ivf_nprobe, pq_subquantizers, refine_k_factor


@pytest.mark.parametrize(("n_items", "dim", "index_type", "expected"), [
    (0, 1280, "auto", "Flat"),
    (808, 1280, "auto", "Flat"),
    (20_000, 2048, "auto", "Flat"),
    (20_001, 2048, "auto", "HNSW32,Flat"),
    (1_000_000, 1280, "auto", "HNSW32,Flat"),
    (3_000_000, 1280, "auto", "HNSW32,Flat"),
    (3_000_001, 1280, "auto", "IVF8192_HNSW32,PQ64x8,Refine(SQ8)"),
    (10_000_000, 1280, "auto", "IVF16384_HNSW32,PQ64x8,Refine(SQ8)"),
    (10_000_000, 512, "auto", "IVF16384_HNSW32,PQ64x8,Refine(SQ8)"),
    (1_000_000, 1280, "ivfpq", "IVF4096_HNSW32,PQ64x8,Refine(SQ8)"),
    (300_000, 1280, "ivfpq", "IVF2048_HNSW32,PQ64x8,Refine(SQ8)"),
    (100_000, 1280, "ivfpq", "IVF1024,PQ64x8,Refine(SQ8)"),
    (20_000, 64, "ivfpq", "IVF512,PQ8x8,Refine(SQ8)"),
    (808, 1280, "hnsw", "HNSW32,Flat"),
    (5_000_000, 2048, "flat", "Flat"),
    (2_000, 96, "ivfpq", "IVF32,PQ12x8,Refine(SQ8)"),
])
def test_index_key_table(n_items, dim, index_type, expected):
    assert choose_index_key(n_items, dim, index_type) == expected


def test_ivf_lists_keep_enough_training_points_and_pq_divides_dim():
    for n in (10, 1_000, 100_000, 10**8):
        assert n >= 39 * ivf_lists(n) or ivf_lists(n) == 1
    for dim in (96, 512, 768, 1280, 2048, 1000):
        m = pq_subquantizers(dim)
        assert dim % m == 0 and m <= 64


@pytest.mark.parametrize(("n_items", "dim", "index_type", "named"),
                         [(10, 64, "annoy", "'annoy'"), (-1, 64, "auto", "n_items=-1"), (10, 0, "auto", "dim=0")])
def test_bad_arguments_name_the_bad_value(n_items, dim, index_type, named):
    with pytest.raises(ValueError, match=named):
        choose_index_key(n_items, dim, index_type)


@pytest.mark.parametrize(("n_items", "ef_search"), [(0, 128), (100_000, 128), (250_000, 128), (250_001, 256),
                                                    (1_000_000, 256), (3_000_000, 256)])
def test_hnsw_search_breadth_grows_with_size(n_items, ef_search):
    assert hnsw_ef_search(n_items) == ef_search


@pytest.mark.parametrize(("n_items", "nprobe", "k_factor"), [(20_000, 32, 10), (100_000, 32, 10), (250_000, 32, 10),
                                                            (250_001, 32, 20), (1_000_000, 32, 20),
                                                            (3_000_000, 32, 20), (3_000_001, 32, 40),
                                                            (10_000_000, 32, 40)])
def test_refined_ivfpq_search_knobs(n_items, nprobe, k_factor):
    assert (ivf_nprobe(n_items), refine_k_factor(n_items)) == (nprobe, k_factor)

