"""Real phone photos that other people took: labelled sets for training (coarse labels) and for evaluation.

Two layouts are read, both a folder with ``labels.csv`` and ``images/``:

- a training set (``../shared/clothing-dataset``): ``image``, ``label`` (the dataset's coarse label),
  ``sender_id`` (who took it), ``article_types`` (the catalog categories the coarse label can mean, ``|``
  between them);
- an evaluation set (``../shared/real-photos``): ``file``, ``articleType``, ``gender``, ``baseColour``.

A coarse label that may mean several categories is kept as that set: training spreads the photo's category
probability over the set (``fit.py``), never guessing one member.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


@dataclass(frozen=True)
class RealPhoto:
    """One real photo: what it may show (one category for the evaluation set), who took it, and its labels."""

    path: Path
    categories: tuple[str, ...]
    group: str = ""  # the photographer: photos of one person share backdrops, so splits keep them together
    gender: str = ""
    colour: str = ""

    @property
    def id(self) -> str:
        return f"real:{self.path.name}"

    def image(self) -> Image.Image:
        with Image.open(self.path) as photo:
            return ImageOps.exif_transpose(photo).convert("RGB")


def load_training_photos(folder: Path, known: Sequence[str] | None = None) -> list[RealPhoto]:
    """The training set's photos; with ``known``, each one's categories cut down to those, and photos whose
    label means none of them (a blazer, where the catalog sells none) left out."""
    folder = Path(folder)
    photos = []
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            categories = tuple(part.strip() for part in row["article_types"].split("|") if part.strip())
            if known is not None:
                categories = tuple(category for category in categories if category in set(known))
            if categories:
                photos.append(RealPhoto(folder / "images" / row["image"], categories, row.get("sender_id", "")))
    return photos


def load_evaluation_photos(folder: Path) -> list[RealPhoto]:
    folder = Path(folder)
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return [RealPhoto(folder / "images" / row["file"], (row["articleType"],), "", row.get("gender", ""),
                          row.get("baseColour", "")) for row in csv.DictReader(handle)]


def split_by_group(photos: Sequence[RealPhoto], fraction: float, seed: int) -> tuple[list[RealPhoto],
                                                                                     list[RealPhoto]]:
    """(train, validation) with about ``fraction`` of the photos in validation, whole photographers at a time,
    so validation never sees a backdrop that training saw; the same photos and seed give the same split."""
    groups = sorted({photo.group for photo in photos},
                    key=lambda group: hashlib.sha256(f"{seed}:{group}".encode()).hexdigest())
    sizes = {group: sum(photo.group == group for photo in photos) for group in groups}
    chosen, total = set(), 0
    for group in groups:
        if total >= fraction * len(photos):
            break
        chosen.add(group)
        total += sizes[group]
    return [p for p in photos if p.group not in chosen], [p for p in photos if p.group in chosen]


def category_sets(photos: Sequence[RealPhoto], vocabulary: Sequence[str]) -> np.ndarray:
    """(N, classes) boolean: which of the head's categories each photo may show."""
    position = {label: index for index, label in enumerate(vocabulary)}
    allowed = np.zeros((len(photos), len(vocabulary)), bool)
    for row, photo in enumerate(photos):
        for category in photo.categories:
            if category in position:
                allowed[row, position[category]] = True
    return allowed
