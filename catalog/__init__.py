"""Product records, Merchant Center feeds and product images; imports nothing else of ours."""

from catalog.diagnostics import FeedDiagnosis, FeedWarning, diagnose
from catalog.errors import CatalogError, FeedError, ImageFetchError
from catalog.feed import FeedReport, SkippedRow, read_feed, write_feed_csv
from catalog.images import ImageFetcher, ImageResult, fetch_all
from catalog.product import Product, parse_price

__all__ = [
    "CatalogError",
    "FeedDiagnosis",
    "FeedError",
    "FeedReport",
    "FeedWarning",
    "ImageFetchError",
    "ImageFetcher",
    "ImageResult",
    "Product",
    "SkippedRow",
    "diagnose",
    "fetch_all",
    "parse_price",
    "read_feed",
    "write_feed_csv",
]
