"""The runtime every front door shares: photos in, ranked catalog products out.

Settings, the index build pipeline (catalog → engine → index), re-ranking by predicted attributes, the
style guess, and the :class:`Recommender` protocol with its real implementation, :class:`CatalogRecommender`.
Training and evaluation live in ``training/`` (an optional extra) and are never imported from here.
"""

from .catalog_recommender import CatalogRecommender
from .indexing import BuildProgress, BuildReport, build_index
from .protocol import Query, Recommender, ReindexInProgressError
from .settings import RecommenderSettings
from .style import Guess, Style

__all__ = ["BuildProgress", "BuildReport", "CatalogRecommender", "Guess", "Query", "Recommender",
           "RecommenderSettings", "ReindexInProgressError", "Style", "build_index"]
