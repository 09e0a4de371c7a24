"""A real FAISS index on disk: round trip, fingerprints, atomic swap, crash safety, filters, paging."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.product import Product
from index import CatalogIndex, Filters, FingerprintMismatchError, IndexNotFoundError, IndexWriter
from index.store import BUILDS, CURRENT, PARTIAL_SUFFIX

DIM = 32
GENDERS = ["Men", "Women", "Unisex", "Girls"]
COLOURS = ["Red", "Navy Blue", "Blue", "White"]
TYPES = ["Apparel > Topwear > Tshirts", "Footwear > Shoes > Heels", "Apparel > Dress > Dresses"]
USAGES = ["Casual", "Formal", "Sports"]


def catalog(n: int, seed: int = 0) -> tuple[np.ndarray, list[Product]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    products = [Product(id=f"p{i}", title=f"Product {i}", link=f"https://shop.example/p{i}",
                        image_link=f"https://shop.example/p{i}.jpg", gender=GENDERS[i % 4],
                        color=COLOURS[i % 4 if i % 3 else 1], product_type=TYPES[i % 3],
                        extra={"usage": USAGES[i % 3]}) for i in range(n)]
    return vectors, products


def build(root, vectors, products, fingerprint="fp-a", index_type="auto"):
    with IndexWriter(root, fingerprint=fingerprint, dim=DIM, engine={"backbone": "test"},
                     index_type=index_type) as writer:
        for start in range(0, len(products), 64):  # several adds, as the pipeline does
            writer.add(vectors[start:start + 64], products[start:start + 64])
        return writer.commit(source="feed.csv", source_hash="abc", skipped=2)


@pytest.fixture
def built(tmp_path):
    vectors, products = catalog(300)
    build(tmp_path / "idx", vectors, products)
    return tmp_path / "idx", vectors, products


@pytest.mark.parametrize("index_type", ["flat", "hnsw", "ivfpq"])
def test_round_trip_finds_each_item_first(tmp_path, index_type):
    vectors, products = catalog(300)
    manifest = build(tmp_path / "idx", vectors, products, index_type=index_type)
    index = CatalogIndex.open(tmp_path / "idx", "fp-a")
    assert len(index) == 300 and index.manifest.count == 300 and manifest.skipped == 2
    hits = index.search(vectors[:20], k=5)
    recall_at_1 = np.mean([row[0].product.id == f"p{i}" for i, row in enumerate(hits)])
    assert recall_at_1 >= (1.0 if index_type != "ivfpq" else 0.8)
    assert [hit.rank for hit in hits[0]] == [0, 1, 2, 3, 4]
    assert hits[0][0].product == products[0]  # the whole record comes back
    np.testing.assert_allclose(index.vector("p7"), vectors[7], atol=1e-6 if index_type != "ivfpq" else 1)


def test_scores_are_cosine_and_sorted(built):
    root, vectors, _ = built
    hits = CatalogIndex.open(root).search(vectors[3], k=10)[0]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[1].score == pytest.approx(float(vectors[3] @ vectors[int(hits[1].product.id[1:])]), abs=1e-5)


def test_pages_never_repeat_and_end_cleanly(built):
    root, vectors, _ = built
    index = CatalogIndex.open(root)
    pages = [index.search(vectors[0], k=7, offset=offset)[0] for offset in range(0, 300, 7)]
    ids = [hit.product.id for page in pages for hit in page]
    assert len(ids) == len(set(ids)) == 300
    assert index.search(vectors[0], k=7, offset=300)[0] == []


def test_fingerprint_mismatch_says_how_to_rebuild(built):
    root, _, _ = built
    with pytest.raises(FingerprintMismatchError, match="fashionbot index build --catalog feed.csv --out"):
        CatalogIndex.open(root, "fp-other")


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexNotFoundError, match="fashionbot index build"):
        CatalogIndex.open(tmp_path / "nothing")


def test_a_crash_mid_build_leaves_the_old_index_serving(built):
    root, vectors, products = built
    before = CatalogIndex.open(root)
    writer = IndexWriter(root, fingerprint="fp-a", dim=DIM)
    writer.add(vectors[:10], products[:10])  # … and the process dies here: no commit, no clean-up
    assert (root / BUILDS / writer.directory.name).name.endswith(PARTIAL_SUFFIX)
    after = CatalogIndex.open(root)
    assert after.directory == before.directory and len(after) == 300


def test_an_error_mid_build_discards_the_partial_build(built):
    root, vectors, products = built
    with pytest.raises(RuntimeError), IndexWriter(root, fingerprint="fp-a", dim=DIM) as writer:
        writer.add(vectors[:10], products[:10])
        raise RuntimeError("image server went away")
    assert not writer.directory.exists()
    assert len(CatalogIndex.open(root)) == 300


def test_a_new_build_swaps_in_while_an_open_reader_keeps_working(built):
    root, vectors, products = built
    reader = CatalogIndex.open(root)
    build(root, vectors[:50], products[:50], fingerprint="fp-b")
    build(root, vectors[:60], products[:60], fingerprint="fp-c")  # prunes the oldest build
    assert reader.search(vectors[5], k=1)[0][0].product.id == "p5"  # old handles stay valid
    fresh = CatalogIndex.open(root, "fp-c")
    assert len(fresh) == 60 and (root / CURRENT).is_symlink()
    assert len(list((root / BUILDS).iterdir())) == 2


def test_empty_and_inconsistent_builds_are_refused(tmp_path):
    vectors, products = catalog(5)
    with pytest.raises(ValueError, match="nothing to publish"), IndexWriter(tmp_path, fingerprint="f", dim=DIM) as w:
        w.commit()
    with pytest.raises(ValueError, match="duplicate"), IndexWriter(tmp_path, fingerprint="f", dim=DIM) as w:
        w.add(vectors[:2], [products[0], products[0]])
    with pytest.raises(ValueError, match="vectors"), IndexWriter(tmp_path, fingerprint="f", dim=DIM) as w:
        w.add(vectors[:2], products[:3])
    assert not (tmp_path / CURRENT).exists()


@pytest.mark.parametrize(("filters", "check"), [
    (Filters(gender="women"), lambda p: p.gender in ("Women", "Unisex")),
    (Filters(gender="MEN"), lambda p: p.gender in ("Men", "Unisex")),
    (Filters(gender="girls"), lambda p: p.gender == "Girls"),
    (Filters(color="blue"), lambda p: "blue" in p.color.lower()),
    (Filters(color="Navy Blue"), lambda p: p.color == "Navy Blue"),
    (Filters(product_type="heels"), lambda p: p.product_type.endswith("Heels")),
    (Filters(usage="formal"), lambda p: p.extra["usage"] == "Formal"),
    (Filters(gender="women", color="blue", usage="casual"),
     lambda p: p.gender in ("Women", "Unisex") and "Blue" in p.color and p.extra["usage"] == "Casual"),
])
@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_filters_return_k_matching_results_when_enough_exist(tmp_path, filters, check, index_type):
    vectors, products = catalog(300)
    build(tmp_path / "idx", vectors, products, index_type=index_type)
    index = CatalogIndex.open(tmp_path / "idx")
    matching = [p for p in products if check(p)]
    k = min(8, len(matching))
    hits = index.search(vectors[0], k=k, filters=filters)[0]
    assert len(hits) == k and all(check(hit.product) for hit in hits)
    exact = sorted(matching, key=lambda p: -float(vectors[0] @ vectors[int(p.id[1:])]))[:k]
    assert [hit.product.id for hit in hits] == [p.id for p in exact]
    beyond = index.search(vectors[0], k=10, offset=len(matching) - 3, filters=filters)[0]
    assert len(beyond) == 3


def test_filter_with_no_match_and_special_characters(built):
    root, vectors, _ = built
    index = CatalogIndex.open(root)
    assert index.search(vectors[0], k=5, filters=Filters(color="purple"))[0] == []
    assert index.search(vectors[0], k=5, filters=Filters(product_type="100%_"))[0] == []
    with pytest.raises(ValueError, match="dims"):
        index.search(np.zeros((1, DIM + 1), dtype=np.float32), k=5)


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_large_filtered_sets_use_the_id_selector_and_still_return_k(tmp_path, monkeypatch, index_type):
    monkeypatch.setattr("index.search.EXACT_FILTERED_MAX", 0)  # as if every filter matched a huge set
    vectors, products = catalog(300)
    build(tmp_path / "idx", vectors, products, index_type=index_type)
    index = CatalogIndex.open(tmp_path / "idx")
    hits = index.search(vectors[0], k=6, filters=Filters(gender="girls"))[0]
    girls = [p for p in products if p.gender == "Girls"]
    exact = sorted(girls, key=lambda p: -float(vectors[0] @ vectors[int(p.id[1:])]))[:6]
    assert [hit.product.id for hit in hits] == [p.id for p in exact]


def test_records_of_a_build_from_before_several_images_per_product_still_read(tmp_path):
    import json
    import sqlite3

    from catalog import Product
    from index.records import ProductRecords

    path = tmp_path / "products.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript("CREATE TABLE products (faiss_id INTEGER PRIMARY KEY, product_id TEXT NOT NULL UNIQUE, "
                             "gender TEXT, color TEXT, product_type TEXT, usage TEXT, record TEXT NOT NULL);")
    for faiss_id, pid in enumerate(("a", "b")):
        record = json.dumps(Product(id=pid, title=pid, link=f"https://x/{pid}", image_link=f"/i/{pid}.jpg").to_dict())
        connection.execute("INSERT INTO products VALUES (?, ?, NULL, NULL, NULL, NULL, ?)", (faiss_id, pid, record))
    connection.commit()
    connection.close()
    records = ProductRecords(path)
    assert (records.product_count, records.max_views, records.faiss_id_of("b")) == (2, 1, 1)
    assert records.get_many([0])[0].id == "a"
    records.close()


@pytest.mark.parametrize("index_type", ["hnsw", "ivfpq"])
def test_a_filter_matching_many_items_searches_the_index_itself_on_every_type(tmp_path, monkeypatch, index_type):
    monkeypatch.setattr("index.search.EXACT_FILTERED_MAX", 50)  # as if 50 were "many": the selector path runs
    vectors, products = catalog(3000)
    build(tmp_path / "idx", vectors, products, index_type=index_type)
    index = CatalogIndex.open(tmp_path / "idx")
    hits = index.search(vectors[:4], k=5, filters=Filters(gender="girls"))
    assert all(len(row) == 5 and all(hit.product.gender == "Girls" for hit in row) for row in hits)
    assert hits[3][0].product.id == "p3" and index.manifest.index_key.endswith("Refine(SQ8)") == (index_type == "ivfpq")
