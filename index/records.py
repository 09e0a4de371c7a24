"""Product records beside the vectors: SQLite, keyed by the FAISS id, with filterable columns."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    view INTEGER NOT NULL DEFAULT 0,
    brand TEXT, price_amount REAL, price_currency TEXT, collections TEXT
);
CREATE INDEX products_product_id ON products(product_id, view);
CREATE INDEX products_gender ON products(gender);
CREATE INDEX products_usage ON products(usage);
CREATE INDEX products_price ON products(price_amount);
"""
# Builds made before brand, price and collection columns existed read them from the stored record.
_OLDER_BUILDS = {
    "brand": "lower(json_extract(record, '$.brand'))",
    "price_amount": "json_extract(record, '$.price_amount')",
    "price_currency": "json_extract(record, '$.price_currency')",
    "collections": "NULL",
}
# Merchant Center's custom labels are where shops mark campaigns and collections.
COLLECTION_COLUMNS = tuple(f"custom_label_{n}" for n in range(5))

# Feeds say male/female (Merchant Center) or Men/Women (the sample); filters speak one language.
_GENDER_WORDS = {"male": "men", "man": "men", "female": "women", "woman": "women"}
# A unisex item suits a shopper filtering for men or for women.
_GENDER_MATCHES = {"men": ("men", "unisex"), "women": ("women", "unisex")}


def normalise_gender(value: str | None) -> str | None:
    return _gender_word(value) if value else None


def _gender_word(value: str) -> str:
    word = value.strip().lower()
    return _GENDER_WORDS.get(word, word)


@dataclass(frozen=True)
class Filters:
    """Narrowing of results; each text field is case-insensitive, None means 'any'.

    gender matches exactly (unisex items match men and women); color and product_type match when the
    value contains the word ('blue' finds 'Navy Blue'); usage and brand match exactly. Any of them may name
    alternatives split by '|' ('red|blue'), any of which matches. Price bounds are inclusive, on the parsed
    amount, in ``currency`` (None: any currency, for feeds that name none); a product without a price
    never passes one. ``excluded`` holds (field, value) pairs that must not match, by the same rules.
    ``collection`` keeps the products that carry it as one of their custom labels (a shop's campaign).
    """

    gender: str | None = None
    color: str | None = None
    product_type: str | None = None
    usage: str | None = None
    brand: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    currency: str | None = None
    excluded: tuple[tuple[str, str], ...] = ()
    collection: str | None = None

    def __post_init__(self) -> None:
        # Filters are cache keys, so hashable: lists (filters read back from JSON) become tuples.
        object.__setattr__(self, "excluded", tuple((str(f), str(v)) for f, v in self.excluded))

    def __bool__(self) -> bool:
        return any((self.gender, self.color, self.product_type, self.usage, self.brand, self.excluded,
                    self.collection, self.min_price is not None, self.max_price is not None))

    def where(self, columns: Mapping[str, str] | None = None) -> tuple[str, list]:
        """An SQL condition on the products table and its parameters; ``columns`` maps a column name to the
        expression that reads it (for builds that lack the column)."""
        def column(name: str) -> str:
            name = _FIELD_COLUMNS.get(name, name)
            return (columns or {}).get(name, name)

        clauses: list[str] = []
        params: list[str | float] = []
        for name, value in self.labels():
            clause, values = _label_clause(column(name), name, value)
            clauses.append(clause)
            params.extend(values)
        for name, value in self.excluded:
            clause, values = _label_clause(column(name), name, value)
            clauses.append(f"NOT COALESCE({clause}, 0)")  # a product without the label is not excluded
            params.extend(values)
        for bound, operator in ((self.min_price, ">="), (self.max_price, "<=")):
            if bound is not None:
                clauses.append(f"{column('price_amount')} {operator} ?")
                params.append(float(bound))
        if self.currency and (self.min_price is not None or self.max_price is not None):
            clauses.append(f"{column('price_currency')} = ?")
            params.append(self.currency.upper())
        return " AND ".join(clauses) or "1", params

    def labels(self) -> list[tuple[str, str]]:
        """The (field, value) pairs a product must match."""
        fields = ("gender", "color", "product_type", "usage", "brand", "collection")
        return [(name, value) for name in fields if (value := getattr(self, name))]


FILTER_FIELDS = ("gender", "color", "product_type", "usage", "brand")
# A product carries several collections, so its column is plural where the filter names one.
_FIELD_COLUMNS = {"collection": "collections"}


def _label_clause(column: str, field: str, value: str) -> tuple[str, list[str]]:
    """One field's condition; ``value`` may name alternatives split by '|'."""
    options = [option.strip().lower() for option in value.split("|") if option.strip()]
    if field == "gender":
        genders = {_gender_word(option) for option in options}
        wanted = sorted({match for gender in genders for match in _GENDER_MATCHES.get(gender, (gender,))})
        return f"{column} IN ({','.join('?' * len(wanted))})", wanted
    if field in ("color", "product_type"):
        like = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in options)
        return f"({like})", ["%" + _escape_like(option) + "%" for option in options]
    if field == "collection":
        return f"{column} LIKE ? ESCAPE '\\'", ["%|" + _escape_like(collection_slug(value)) + "|%"]
    if field not in ("usage", "brand"):
        raise ValueError(f"no filter on {field!r}")
    return f"{column} IN ({','.join('?' * len(options))})", options


def collection_slug(name: str) -> str:
    """How a collection is named in a link: 'Summer Sale 2026' → 'summer-sale-2026'."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_values(product: Product) -> dict[str, str | None]:
    """What a product's filterable columns hold: its normalised labels (the heads' vocabulary, lower case) where
    it has them, else its shop's own text, so that filters speak one vocabulary on any shop's catalog."""
    kind = [value for name in ("sub_category", "category") if (value := product.label(name))]
    return {"gender": normalise_gender(product.label("gender") or product.gender),
            "color": (product.label("colour") or product.color or "").lower() or None,
            "product_type": (" > ".join(kind) if kind else product.product_type or "").lower() or None,
            "usage": _lower(product.label("usage") or product.extra.get("usage"))}


def _lower(text: str | None) -> str | None:
    return text.strip().lower() or None if text else None


def _collections(product: Product) -> str | None:
    """'|summer-sale|new-in|': the product's custom labels as link names, each between bars."""
    slugs = [collection_slug(product.extra[name]) for name in COLLECTION_COLUMNS if product.extra.get(name)]
    return "|" + "|".join(slug for slug in slugs if slug) + "|" if any(slugs) else None


@dataclass(frozen=True)
class CatalogLabels:
    """The distinct labels a catalog uses, per filterable field (as stored: lower case), and its currencies."""

    gender: tuple[str, ...] = ()
    color: tuple[str, ...] = ()
    product_type: tuple[str, ...] = ()
    usage: tuple[str, ...] = ()
    brand: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()  # most common first


LABELLED = ("category", "sub_category", "colour", "gender", "usage")
# One row per product (its first embedded image): every row of a product holds the same record.
_ONE_ROW_EACH = "faiss_id IN (SELECT MIN(faiss_id) FROM products GROUP BY product_id)"


@dataclass(frozen=True)
class LabelReport:
    """Where a build's products got their labels: per attribute, how many from the feed, from the image, or
    none; and each product whose packshots contradict its feed (a shop can fix those)."""

    coverage: dict[str, dict[str, int]]
    contradicted: list[dict]  # {"id", "attribute", "feed", "image", "image_confidence", "won"}

    def to_dict(self) -> dict:
        return {"coverage": self.coverage, "contradicted": self.contradicted}


def label_report(query: Callable[[str, Sequence], list[tuple]]) -> LabelReport:
    """The label report of a products table, read with ``query(sql, params)`` (builds from before labels: all
    none)."""
    coverage: dict[str, dict[str, int]] = {}
    for attribute in LABELLED:
        rows = query(f"SELECT json_extract(record, '$.labels.{attribute}.source') AS source, COUNT(*) "
                     f"FROM products WHERE {_ONE_ROW_EACH} GROUP BY source", [])
        counts = {str(source or "none"): count for source, count in rows}
        coverage[attribute] = {source: counts.get(source, 0) for source in ("feed", "image", "none")}
    rows = query(f"SELECT product_id, json_extract(record, '$.label_conflicts') FROM products WHERE {_ONE_ROW_EACH} "
                 "AND json_extract(record, '$.label_conflicts') NOT IN ('{}') ORDER BY product_id", [])
    contradicted = [{"id": product_id, "attribute": attribute, **conflict}
                    for product_id, conflicts in rows for attribute, conflict in json.loads(conflicts).items()]
    return LabelReport(coverage, contradicted)


def read_label_report(path: Path) -> LabelReport:
    """The label report of the products table at ``path`` (a build being written)."""
    connection = sqlite3.connect(path)
    try:
        return label_report(lambda sql, params: connection.execute(sql, params).fetchall())
    finally:
        connection.close()


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
            (first_id + offset, p.id, *filter_values(p).values(), json.dumps(p.to_dict(), ensure_ascii=False),
             view, (p.brand or "").strip().lower() or None, p.price_amount, p.price_currency, _collections(p))
            for offset, (p, view) in enumerate(zip(products, views or [0] * len(products), strict=True))
        ]
        with connection:
            connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)
    finally:
        connection.close()


def relabel_records(path: Path, products: Iterable[Product]) -> int:
    """Rewrite the record and label columns of every row (image) of each product, as it now is: labels decided
    once all of a product's images were seen. Returns how many products were rewritten."""
    connection = sqlite3.connect(path)
    try:
        rows = [(*filter_values(p).values(), json.dumps(p.to_dict(), ensure_ascii=False), p.id) for p in products]
        with connection:
            connection.executemany("UPDATE products SET gender = ?, color = ?, product_type = ?, usage = ?, "
                                   "record = ? WHERE product_id = ?", rows)
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
        columns = {column[1] for column in self._query("PRAGMA table_info(products)", [])}
        self._has_views = "view" in columns
        self._columns = {name: expression for name, expression in _OLDER_BUILDS.items() if name not in columns}
        self.product_count, self.max_views = self._counts()
        self._labels: CatalogLabels | None = None

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

    def labels(self) -> CatalogLabels:
        """What the catalog's products are labelled with (looked up once: a build never changes)."""
        if self._labels is None:
            found = {}
            for name in FILTER_FIELDS:
                column = self._columns.get(name, name)
                rows = self._query(f"SELECT DISTINCT {column} FROM products WHERE {column} IS NOT NULL", [])
                found[name] = tuple(sorted(str(value) for (value,) in rows if str(value).strip()))
            currency = self._columns.get("price_currency", "price_currency")
            rows = self._query(f"SELECT {currency}, COUNT(*) AS n FROM products WHERE {currency} IS NOT NULL "
                               f"GROUP BY {currency} ORDER BY n DESC", [])
            self._labels = CatalogLabels(**found, currencies=tuple(code for code, _ in rows))
        return self._labels

    def label_report(self) -> LabelReport:
        return label_report(self._query)

    def _matching_ids(self, filters: Filters) -> np.ndarray:
        """FAISS ids of the products that pass the filters, ascending (read-only: it is shared by callers)."""
        where, params = filters.where(self._columns)
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
