"""Product records beside the vectors: SQLite, keyed by the FAISS id, with filterable columns."""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catalog.product import Product

# One row per vector: a product with several images (its views: 0 is image_link, 1… its additional images)
# has one row per embedded image, each with the whole record, so filters and lookups stay one table.
_SCHEMA = """
CREATE TABLE products (
    faiss_id INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL,
    gender TEXT, color TEXT, product_type TEXT, usage TEXT,
    record TEXT NOT NULL,
    view INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX products_product_id ON products(product_id, view);
CREATE INDEX products_gender ON products(gender);
CREATE INDEX products_usage ON products(usage);
"""

# Feeds say male/female (Merchant Center) or Men/Women (the sample); filters speak one language.
_GENDER_WORDS = {"male": "men", "man": "men", "female": "women", "woman": "women"}
# A unisex item suits a shopper filtering for men or for women.
_GENDER_MATCHES = {"men": ("men", "unisex"), "women": ("women", "unisex")}


def normalise_gender(value: str | None) -> str | None:
    if not value:
        return None
    word = value.strip().lower()
    return _GENDER_WORDS.get(word, word)


@dataclass(frozen=True)
class Filters:
    """Narrowing of results; each field is case-insensitive, None means 'any'.

    gender matches exactly (unisex items match men and women); color and product_type match when the
    value contains the word ('blue' finds 'Navy Blue'); usage matches exactly.
    """

    gender: str | None = None
    color: str | None = None
    product_type: str | None = None
    usage: str | None = None

    def __bool__(self) -> bool:
        return any((self.gender, self.color, self.product_type, self.usage))

    def where(self) -> tuple[str, list[str]]:
        clauses, params = [], []
        if self.gender:
            wanted = _GENDER_MATCHES.get(normalise_gender(self.gender), (normalise_gender(self.gender),))
            clauses.append(f"gender IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        for column, value in (("color", self.color), ("product_type", self.product_type)):
            if value:
                clauses.append(f"{column} LIKE ? ESCAPE '\\'")
                params.append("%" + _escape_like(value.strip().lower()) + "%")
        if self.usage:
            clauses.append("usage = ?")
            params.append(self.usage.strip().lower())
        return " AND ".join(clauses) or "1", params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _usage(product: Product) -> str | None:
    usage = product.extra.get("usage")
    return usage.strip().lower() if usage else None


def write_records(path: Path, products: Iterable[Product], first_id: int = 0,
                  views: Iterable[int] | None = None) -> int:
    """Append products with consecutive FAISS ids from ``first_id``, each row the ``views`` entry's image of
    its product (default: every row its main image); returns how many were written."""
    connection = sqlite3.connect(path)
    try:
        if first_id == 0:
            connection.executescript(_SCHEMA)
        products = list(products)
        rows = [
            (first_id + offset, p.id, normalise_gender(p.gender), (p.color or "").lower() or None,
             (p.product_type or "").lower() or None, _usage(p), json.dumps(p.to_dict(), ensure_ascii=False),
             view)
            for offset, (p, view) in enumerate(zip(products, views or [0] * len(products), strict=True))
        ]
        with connection:
            connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)
    finally:
        connection.close()


class ProductRecords:
    """Read-only access to a build's products, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        # A build never changes, so each filter's matches are looked up once, not on every page of every query.
        self.matching_ids = functools.lru_cache(maxsize=256)(self._matching_ids)
        # Builds from before several images per product have no view column: one row, one product.
        self._has_views = any(column[1] == "view" for column in self._query("PRAGMA table_info(products)", []))
        self.product_count, self.max_views = self._counts()

    def get_many(self, faiss_ids: Sequence[int]) -> dict[int, Product]:
        if not faiss_ids:
            return {}
        marks = ",".join("?" * len(faiss_ids))
        rows = self._query(f"SELECT faiss_id, record FROM products WHERE faiss_id IN ({marks})",
                           [int(i) for i in faiss_ids])
        return {faiss_id: Product.from_dict(json.loads(record)) for faiss_id, record in rows}

    def faiss_id_of(self, product_id: str) -> int | None:
        """The row of the product's main image."""
        order = "view, faiss_id" if self._has_views else "faiss_id"
        rows = self._query(f"SELECT faiss_id FROM products WHERE product_id = ? ORDER BY {order} LIMIT 1",
                           [product_id])
        return rows[0][0] if rows else None

    def _counts(self) -> tuple[int, int]:
        """How many products, and the most rows (images) any one of them has."""
        [(products, most)] = self._query(
            "SELECT COUNT(*), COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM products GROUP BY product_id)", [])
        return products, most

    def _matching_ids(self, filters: Filters) -> np.ndarray:
        """FAISS ids of the products that pass the filters, ascending (read-only: it is shared by callers)."""
        where, params = filters.where()
        rows = self._query(f"SELECT faiss_id FROM products WHERE {where} ORDER BY faiss_id", params)
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        ids.flags.writeable = False
        return ids

    def _query(self, sql: str, params: Sequence) -> list[tuple]:
        with self._lock:
            return self._connection.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:  # a query in flight on another thread finishes first
            self._connection.close()
