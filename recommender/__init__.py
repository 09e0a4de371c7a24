"""The runtime every front door shares: photos in, ranked catalog products out.

Settings, the index build pipeline (catalog → engine → index), re-ranking by predicted attributes, the
style guess, and the :class:`Recommender` protocol with its real implementation, :class:`CatalogRecommender`.
Training and evaluation live in ``training/`` (an optional extra) and are never imported from here.

Names are loaded on first use, so ``recommender.logs`` (what every command sets up first) costs no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog_recommender import CatalogRecommender
    from .indexing import BuildProgress, BuildReport, build_index
    from .protocol import Query, Recommender, Region, ReindexInProgressError
    from .settings import RecommenderSettings
    from .style import Guess, Style

_HOMES = {
    "CatalogRecommender": "catalog_recommender", "BuildProgress": "indexing", "BuildReport": "indexing",
    "build_index": "indexing", "Query": "protocol", "Recommender": "protocol",
    "ReindexInProgressError": "protocol", "Region": "protocol", "RecommenderSettings": "settings", "Guess": "style",
    "Style": "style",
}
__all__ = ["BuildProgress", "BuildReport", "CatalogRecommender", "Guess", "Query", "Recommender",
           "RecommenderSettings", "Region", "ReindexInProgressError", "Style", "build_index"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
