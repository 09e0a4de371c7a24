"""When nothing in the catalog is close to a photo: a floor on the best match's visual similarity.

A head artifact carries the floor calibrated for its own vector space (``training/calibration.py``: all but
2 % of real garment photos by photographers training never saw clear it); without a head, the plain
backbone's measured floor for its framing is used, and where none was measured the check is off.
``FASHIONBOT_MIN_SIMILARITY`` overrides either.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.runtime import EmbeddingEngine
from index import SearchHit

# (backbone, query framing) → floor, calibrated like a head's, on the same validation real photos (README).
PLAIN_FLOORS = {("tf_efficientnet_lite0", "centre+garment"): 0.408}


def similarity_floor(engine: EmbeddingEngine, override: float | None = None) -> float | None:
    if override is not None:
        return override
    if engine.head is not None:
        floor = engine.head.training.get("nothing_close", {}).get("min_similarity")
        return float(floor) if floor is not None else None
    return PLAIN_FLOORS.get((engine.backbone_name, str(engine.framing)))


def nothing_close(hits: Sequence[SearchHit], floor: float | None) -> bool:
    """Whether even the visually closest of these hits is below the floor (never, without a floor or hits)."""
    return floor is not None and bool(hits) and max(hit.similarity for hit in hits) < floor
