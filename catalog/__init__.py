"""Product records, Merchant Center feeds and product images; imports nothing else of ours."""

from catalog.errors import CatalogError, FeedError, ImageFetchError
from catalog.feed import FeedReport, SkippedRow, read_feed, write_feed_csv
from catalog.images import ImageFetcher, ImageResult, fetch_all
from catalog.product import Product

__all__ = [
    "CatalogError",
    "FeedError",
    "FeedReport",
    "ImageFetchError",
    "ImageFetcher",
    "ImageResult",
    "Product",
    "SkippedRow",
    "fetch_all",
    "read_feed",
    "write_feed_csv",
]
