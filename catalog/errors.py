"""Typed errors of the catalog layer; callers translate them once, at their edge."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error the catalog package raises on purpose."""


class FeedError(CatalogError):
    """A whole feed cannot be read: missing file, unknown format, broken XML, required column absent."""


class ImageFetchError(CatalogError):
    """One product's image could not be loaded; ``reason`` is short and safe to log."""

    def __init__(self, product_id: str, reason: str) -> None:
        # Both go to args so the error pickles (worker processes) and compares by value in tests.
        super().__init__(product_id, reason)
        self.product_id = product_id
        self.reason = reason

    def __str__(self) -> str:
        return f"product {self.product_id!r}: {self.reason}"
