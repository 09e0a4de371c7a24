"""FAISS catalog index: choose, build, publish atomically, open read-only, search with filters."""

from .build import IndexWriter
from .choose import INDEX_TYPES, choose_index_key
from .errors import CatalogIndexError, FingerprintMismatchError, IndexFormatError, IndexNotFoundError
from .records import CatalogLabels, Filters, LabelReport, collection_slug
from .search import CatalogIndex, SearchHit
from .store import Manifest

__all__ = [
    "INDEX_TYPES",
    "CatalogIndex",
    "CatalogIndexError",
    "CatalogLabels",
    "Filters",
    "FingerprintMismatchError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexWriter",
    "LabelReport",
    "Manifest",
    "SearchHit",
    "choose_index_key",
    "collection_slug",
]
