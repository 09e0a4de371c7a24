"""Distil U²-Net-p's garment masks into the backbone's first stages (training/garment_student.py) and ship it.

    python scripts/train_garment_student.py [--photos ../shared/clothing-dataset]
                                            [--catalog ../shared/fashion-sample/styles.csv] [--views 2]
                                            [--work var/garment] [--out models/garment/garment-student.onnx]

Training photos: ../shared/clothing-dataset's real phone photos (never the evaluation's real-photos) of 85 % of
the photographers (seed 0), and the training generator's phone-like photos (``--views`` easy and as many hard)
of the catalog items `fashionbot train` fits on: the evaluation's held-out 20 % (seed 0) and the validation's
15 % of the rest (seed 1) are left out. Each with its mirror image. The student is judged against the teacher
on what it never saw: the held-out photographers' photos, and the independent generator's photos of the
validation items (two per preset, seed 2). The teacher's masks and the trunk's feature maps are cached in
``--work``, so a second run only fits the head (about 90 s). The mask head's logit scale is set on the validation
items' photos so that the student trusts its masks there as often as the teacher does. Prints the agreement;
writes the ONNX model and, beside it, a JSON record of how it was made and what it measured.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from engine.backbones import create_backbone
from engine.garment import CONFIDENT, MASK_SIZE, STUDENT_GRID, STUDENT_INPUT, GarmentLocator
from training.data import load_labelled, split
from training.garment_student import (
    GarmentStudent,
    TrainingPhotos,
    Trunk,
    TrunkMaps,
    box_agreement,
    calibrate_sharpness,
    catalog_views,
    export_student,
    fit_head,
    grid_targets,
    predict,
    teacher_masks,
    trunk_features,
)
from training.parallel import render_all
from training.photo_sets import independent_queries

log = logging.getLogger("train_garment_student")

HELD_OUT = 0.15  # of the real photos' photographers
HOLDOUT, VALIDATION, SEED = 0.2, 0.15, 0  # as `fashionbot train` and `fashionbot eval` split the catalog
EPOCHS = 12
LEARNING_RATE = 3e-3


def cached(path: Path, compute) -> np.ndarray:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, compute())
    return np.load(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=Path("../shared/clothing-dataset"))
    parser.add_argument("--catalog", type=Path, default=Path("../shared/fashion-sample/styles.csv"))
    parser.add_argument("--views", type=int, default=2, help="training-generator photos per fit item and preset")
    parser.add_argument("--work", type=Path, default=Path("var/garment"))
    parser.add_argument("--out", type=Path, default=Path("models/garment/garment-student.onnx"))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    backbone = create_backbone()
    trunk = Trunk(backbone.model).eval()
    teacher = GarmentLocator.load("u2netp", MASK_SIZE)

    def masks_and_maps(name: str, photos, mirror: bool = True) -> tuple:
        """The teacher's masks and the trunk's maps of ``photos`` (and of their mirror images), cached; the
        photos are made (rendered) once, and only if a cache is missing."""
        photos = functools.cache(photos)
        masks = cached(args.work / f"{name}-teacher{MASK_SIZE}.npy", lambda: teacher_masks(photos(), teacher))

        def maps(mirrored: bool) -> TrunkMaps:
            stem = args.work / f"{name}-trunk{STUDENT_INPUT}"
            suffix = "-mirror" if mirrored else ""
            coarse, fine = Path(f"{stem}{suffix}.npy"), Path(f"{stem}-s8{suffix}.npy")
            if not (coarse.is_file() and fine.is_file()):
                computed = trunk_features(photos(), trunk, mirrored)
                np.save(coarse, computed.coarse)
                np.save(fine, computed.fine)
            return TrunkMaps(np.load(coarse), np.load(fine))

        return (masks, maps(False), maps(True)) if mirror else (masks, maps(False))

    real = TrainingPhotos.read(args.photos)
    held = real.held_out(HELD_OUT, SEED)
    real_masks, real_maps, real_mirrored = masks_and_maps("real", lambda: real.files)

    training_items, _ = split(load_labelled(args.catalog), HOLDOUT, SEED)
    fit_items, validation_items = split(training_items, VALIDATION, SEED + 1)
    view_masks, view_maps, view_mirrored = masks_and_maps(
        f"views{args.views}x{len(fit_items)}",
        lambda: [view for views in render_all([(item.image_link, args.views, [SEED, index])
                                               for index, item in enumerate(fit_items)], catalog_views)
                 for view in views])
    validation = independent_queries(validation_items, per_preset=2, seed=SEED + 2)
    validation_masks, validation_maps = masks_and_maps(f"validation{len(validation_items)}",
                                                       lambda: [query.image for query in validation], mirror=False)

    fit = ~held
    started = time.perf_counter()
    head = fit_head(TrunkMaps.concatenate([real_maps[fit], real_mirrored[fit], view_maps, view_mirrored]),
                    np.concatenate([grid_targets(real_masks[fit]), grid_targets(real_masks[fit], mirrored=True),
                                    grid_targets(view_masks), grid_targets(view_masks, mirrored=True)]),
                    epochs=args.epochs, lr=LEARNING_RATE)
    fit_s = time.perf_counter() - started
    # The logit scale is set on the validation items' photos (the independent generator's: the photos whose trust
    # the real ones' fitting says least about); the held-out photographers only judge.
    sharpness = calibrate_sharpness(head, validation_maps, validation_masks)
    agreement = {"held-out photographers": asdict(box_agreement(predict(head, real_maps[held]), real_masks[held],
                                                                CONFIDENT, CONFIDENT))}
    presets = np.array([query.preset for query in validation])
    for preset in sorted(set(presets)):
        rows = presets == preset
        agreement[f"validation items, {preset}"] = asdict(box_agreement(
            predict(head, validation_maps[rows]), validation_masks[rows], CONFIDENT, CONFIDENT))
    print(f"sharpness {sharpness}")
    for name, row in agreement.items():
        print(f"{name}: {row}")

    student = GarmentStudent(backbone.model, head).eval()
    export_student(student, args.out)
    record = {"teacher": f"u2netp@{MASK_SIZE}", "input": STUDENT_INPUT, "grid": STUDENT_GRID,
              "backbone": backbone.name, "weights": backbone.weights_source,
              "photos": {"real": str(args.photos.name), "real_fit": int(fit.sum()), "real_held_out": int(held.sum()),
                         "catalog_views": len(view_maps), "catalog_fit_items": len(fit_items), "mirrored": True},
              "epochs": args.epochs, "learning_rate": LEARNING_RATE, "fit_s": round(fit_s, 1),
              "sharpness": sharpness, "trusted_above": CONFIDENT, "agreement_with_teacher": agreement}
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
