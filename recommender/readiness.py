"""How far a start has come (back ends, the model, a first index) and what runs, for health checks to tell.

A shop's first start builds its index before it can answer (minutes on a CPU for a big feed); an orchestrator
that only sees silence restarts it in a loop. So the front door answers at once with the phase and the build's
progress, and says when the configuration lacks what the README's figures were measured with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from engine.config import PACKAGED_DEFAULT

from .indexing import BuildProgress

if TYPE_CHECKING:
    from engine.runtime import EmbeddingEngine


class Phase(StrEnum):
    STARTING = "starting"  # connecting the back ends
    LOADING = "loading"  # loading the model
    BUILDING = "building"  # the first index: building it, or waiting for the worker that does
    READY = "ready"  # the index is open and every handler can answer


@dataclass
class Readiness:
    """Changed on the event loop only (build threads hand progress over with ``call_soon_threadsafe``)."""

    phase: Phase = Phase.STARTING
    progress: BuildProgress | None = None
    model: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.phase is Phase.READY

    def building(self, progress: BuildProgress) -> None:
        self.phase, self.progress = Phase.BUILDING, progress

    def describe(self) -> dict[str, object]:
        """The phase, the first build's progress while it runs, the model and its warnings, once loaded."""
        described: dict[str, object] = {"phase": str(self.phase)}
        if self.phase is Phase.BUILDING and self.progress is not None:
            described["progress"] = {"done": self.progress.done, "total": self.progress.total,
                                     "percent": round(self.progress.percent, 1),
                                     "items_per_s": round(self.progress.items_per_s, 1)}
        if self.model:
            described["model"] = self.model
            described["warnings"] = list(self.warnings)
        return described


def what_runs(engine: EmbeddingEngine, *, rerank: bool, floor: float | None) -> dict[str, object]:
    """The model as operators need to know it: backbone, head (its name, or None), re-rank, the floor."""
    head = engine.head.training.get("name", engine.head.sha256[:12]) if engine.head is not None else None
    return {"backbone": engine.backbone_name, "head": head, "rerank": rerank, "min_similarity": floor}


def configuration_warnings(backbone: str, *, head: bool, rerank: bool, floor: float | None) -> list[str]:
    """What this configuration lacks of the measured one (the packaged Lite0 with the shipped head, README)."""
    if not head:
        lacks = ["results are not re-ranked by predicted attributes", "/style guesses from the nearest products"]
        if floor is None:
            lacks.append('"nothing close" is never said')
        hint = ("FASHIONBOT_ARTIFACT=auto gives it the shipped head" if backbone == PACKAGED_DEFAULT else
                f"the shipped head fits {PACKAGED_DEFAULT} (FASHIONBOT_BACKBONE=auto); train one for {backbone} "
                f"with `fashionbot train`")
        return [f"no trained head with {backbone}: {', '.join(lacks)}, unlike the README's figures; {hint}"]
    warnings = []
    if not rerank:
        warnings.append("results are not re-ranked by predicted attributes (FASHIONBOT_RERANK is false, or the "
                        "head has no re-rank weights)")
    if floor is None:
        warnings.append('"nothing close" is never said: the head carries no calibrated floor '
                        "(set FASHIONBOT_MIN_SIMILARITY)")
    return warnings
