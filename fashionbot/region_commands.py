"""`fashionbot recommend --regions`: for a photo of a person, results per garment worn (shop the look).

One JSON object per image: ``{"query": PATH, "regions": [{"name", "box": [x0, y0, x1, y1], "results": [...]}]}``,
most prominent region first, each region's results as `recommend --json` gives them; a photo without a person has
the one region ``whole``, ranked exactly as without ``--regions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.preprocess import ImageDecodeError
from engine.runtime import EmbeddingEngine
from index import CatalogIndex, SearchHit
from recommender.regions import WHOLE, OutfitFinder, policy_for
from recommender.rerank import RerankPolicy, ranked_search
from recommender.settings import RecommenderSettings

from .catalog_commands import rank_images, results_json, results_table


@dataclass(frozen=True)
class RegionHits:
    name: str
    box: tuple[int, int, int, int]
    hits: list[SearchHit]


def rank_regions(settings: RecommenderSettings, engine: EmbeddingEngine, index: CatalogIndex, images: list[Path],
                 k: int) -> list[list[RegionHits] | str]:
    """Per image its regions' hits, most prominent first, or why the image was unusable. A photo without a person
    is ranked by :func:`rank_images`, as without regions."""
    policy = RerankPolicy.of(engine.head, settings.rerank)
    finder = OutfitFinder(engine)
    outcomes: list[list[RegionHits] | str] = []
    for start in range(0, len(images), engine.config.batch_size):
        paths = images[start:start + engine.config.batch_size]
        blobs: list[bytes] = []
        unreadable: list[str | None] = []  # per image: why it could not be read, None when it could
        for path in paths:
            try:
                blobs.append(Path(path).read_bytes())
                unreadable.append(None)
            except OSError as error:
                blobs.append(b"")  # refused by the decoder; the read error is what the user sees
                unreadable.append(error.strerror or str(error))
        for path, read_error, found in zip(paths, unreadable, finder.find(blobs), strict=True):
            if isinstance(found, ImageDecodeError):
                outcomes.append(read_error or str(found))
            elif not found.regions:
                whole = rank_images(settings, engine, index, [path], k)[0]
                outcomes.append(whole if isinstance(whole, str) else [RegionHits(WHOLE, (0, 0, *found.size), whole)])
            else:
                outcomes.append([RegionHits(region.name, region.box, ranked_search(
                    index, region.query.vector, region.query.attributes, k, policy=policy_for(region.query, policy)))
                    for region in found.regions])
    return outcomes


def regions_json(path: Path, outcome: list[RegionHits] | str) -> dict:
    if isinstance(outcome, str):
        return {"query": str(path), "error": outcome}
    return {"query": str(path), "regions": [{"name": region.name, "box": list(region.box),
                                             "results": results_json(region.hits)} for region in outcome]}


def regions_table(path: Path, outcome: list[RegionHits] | str) -> str:
    if isinstance(outcome, str):
        return f"{path}: error: {outcome}\n"
    return "".join(results_table(f"{path} [{region.name} {list(region.box)}]", region.hits) for region in outcome)
