"""Typed errors of the index layer; their messages say what to do."""


class CatalogIndexError(Exception):
    """Anything wrong with an index on disk."""


class IndexNotFoundError(CatalogIndexError):
    pass


class FingerprintMismatchError(CatalogIndexError):
    pass


class IndexFormatError(CatalogIndexError):
    pass
