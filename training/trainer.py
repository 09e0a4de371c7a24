"""`fashionbot train`, top to bottom: labelled catalog (+ real photos) → honest splits → feature cache → grid on
photos training never sees → head (and, on a GPU, the backbone's last stage) → blend and re-rank → artifact."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from engine import Engine, EngineConfig
from engine.backbones import Backbone, create_backbone
from engine.heads import FashionHead, HeadArtifact

from .cache import ViewRecipe, compute_features, compute_photo_features, held_out_digest, query_features
from .calibration import REFUSED_SHARE
from .data import load_labelled, load_rgb, split, vocabularies
from .fit import FitParams, RealPhotos, fit_head
from .grid import Grid, GridResult, Validation, grid_search, objective
from .photo_sets import independent_queries, real_queries
from .real_photos import category_sets, load_training_photos, split_by_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    catalog: Path
    out: Path
    backbone: str = "tf_efficientnet_lite0"
    device: str = "auto"
    holdout: float = 0.2  # kept out entirely (the evaluation's test items); 0 trains on every item
    validation: float = 0.15  # of the remaining items, for the grid search
    seed: int = 0
    min_count: int = 3  # labels with fewer training items are left out of that attribute's head
    recipe: ViewRecipe = field(default_factory=lambda: ViewRecipe(views=8))
    cache_root: Path = Path("var/features")
    grid: Grid | None = field(default_factory=Grid)  # None: the base parameters, no search
    base: FitParams = field(default_factory=FitParams)
    version: str = "3"
    # Fine-tune the backbone's last stage with the head: "on" (on a CPU, on cached maps of the frozen stages),
    # "off" (heads only) or "auto" (on a GPU only). 800 steps made head v3 in 26 minutes on two cores.
    finetune: str = "on"
    finetune_steps: int = 800
    finetune_views: int = 8  # pooled training-generator views per item while fine-tuning
    # How user photos are framed, in training as at query time (engine/framing.py).
    framing: str = "centre+garment"
    # Real photos with coarse labels (labels.csv + images/); None: catalog views only.
    real: Path | None = None
    real_validation: float = 0.2  # of the real photos, whole photographers at a time, for validation only
    real_shots: int = 4  # the photo and augmented shots of it
    validation_photos: int = 2  # independent-generator photos per validation item and preset
    workers: int | None = None  # view-rendering processes (default: cores but one)
    save_candidates: bool = False  # also write each candidate not chosen, beside ``out`` (<out>.<candidate>.pt)


@dataclass
class Candidate:
    """A trained head (with its fine-tuned tail, if any), how it is used, and how it scored on validation."""

    head: FashionHead
    tail: dict | None
    raw_weight: float
    weights: dict[str, float]
    keep_top: int
    scores: dict[str, float]
    validation: Validation

    @classmethod
    def tuned(cls, head: FashionHead, tail: dict | None, validation: Validation) -> Candidate:
        raw_weight, weights, keep_top, scores = validation.tune_use(head)
        return cls(head, tail, raw_weight, weights, keep_top, scores, validation)

    def artifact(self, engine: Engine, options: TrainOptions, training: dict) -> HeadArtifact:
        head = self.head.with_raw_weight(self.raw_weight)
        floor = self.validation.similarity_floor(head)
        return HeadArtifact(head, engine.backbone_name, engine.backbone_fingerprint, options.version, {
            **training, "rerank": self.weights, "rerank_keep_top": self.keep_top, "raw_weight": self.raw_weight,
            "finetuned": self.tail is not None, "validation": {**training["validation"], **self.scores},
            "nothing_close": {"min_similarity": round(floor, 4), "refused_share": REFUSED_SHARE,
                              "calibrated_on": "validation real photos"}}, backbone_state=self.tail)


@dataclass
class TrainReport:
    artifact: Path
    sha256: str
    size_bytes: int
    items: int
    held_out: int
    grid: GridResult | None
    params: FitParams
    seconds: float
    validation: dict[str, dict[str, float]] = field(default_factory=dict)  # plain / heads / fine-tuned → scores


def train(options: TrainOptions, *, progress: bool = True) -> TrainReport:
    started = time.perf_counter()
    products = load_labelled(options.catalog)
    if options.holdout > 0:
        products, held_out = split(products, options.holdout, options.seed)
        log.info("%d items held out for testing (split seed %d) and never trained on; training on %d",
                 len(held_out), options.seed, len(products))
    else:
        held_out = []
    vocab = vocabularies(products, options.min_count)
    log.info("heads: %s", ", ".join(f"{name} ({len(labels)} labels)" for name, labels in vocab.items()))

    engine = Engine.load(EngineConfig(backbone=options.backbone, device=options.device, artifact=None,
                                      query_framing=options.framing))
    features = compute_features(engine, {p.id: Path(p.image_link) for p in products}, options.recipe,
                                options.cache_root, progress=progress, workers=options.workers)
    fit_part, validation_part = split(products, options.validation, options.seed + 1)
    validation_ids = {p.id for p in validation_part}
    real_train, real_validation = _real_photos(options, vocab)
    real = None
    if real_train:
        shots = compute_photo_features(engine, real_train, options.real_shots, options.cache_root, progress=progress)
        real = RealPhotos(shots, category_sets(real_train, vocab.get("category", [])))
    photos = independent_queries(validation_part, per_preset=options.validation_photos, seed=options.seed + 2,
                                 workers=options.workers) + real_queries(real_validation)
    validation = _validation(engine, features.clean, products, photos, options, f"val-{options.seed}")
    log.info("validation: %d independent-generator photos of %d items, %d real photos; fit: %d items, %d real "
             "photos", len(photos) - len(real_validation), len(validation_part), len(real_validation),
             len(fit_part), len(real_train))
    plain = validation.score_plain()
    log.info("plain backbone on validation: %s → %.3f", _brief(plain), objective(plain))

    if options.grid is not None:
        result = grid_search(features, products, vocab, validation_ids, options.grid, options.base,
                             device=engine.device, validation=validation, real=real)
        params = result.best
    else:
        result, params = None, options.base
    # The chosen setting is refit on every training item (validation items included); the hold-out stays unseen.
    head = fit_head(features, products, vocab, params, device=engine.device, progress=progress, real=real)
    candidates = {"heads": Candidate.tuned(head, None, validation)}
    if options.finetune == "on" or (options.finetune == "auto" and engine.device.type == "cuda"):
        candidates["fine-tuned"] = _finetuned(engine, options, products, vocab, params, real_train, photos,
                                              progress)
    name, chosen = max(candidates.items(), key=lambda item: objective(item[1].scores))
    log.info("chosen on validation: %s (%s)", name, ", ".join(f"{n} {objective(c.scores):.3f}"
                                                              for n, c in candidates.items()))
    training = {
        "name": f"fashion-head-v{options.version}",
        "catalog": str(options.catalog),
        "items": len(products),
        "held_out": {"fraction": options.holdout, "seed": options.seed, "count": len(held_out),
                     "ids_sha256": held_out_digest(held_out)},
        "recipe": asdict(options.recipe),
        "params": asdict(params),
        "query_framing": options.framing,
        "real_photos": {"folder": str(options.real) if options.real else None, "trained": len(real_train),
                        "validation": len(real_validation)},
        "validation": {"fraction": options.validation, "photos": "independent generator + real photos",
                       "plain_backbone": plain, "candidates": {n: c.scores for n, c in candidates.items()}},
    }
    sha = chosen.artifact(engine, options, training).save(options.out)
    if options.save_candidates:
        for other, candidate in candidates.items():
            if other != name:
                candidate.artifact(engine, options, training).save(Path(options.out).with_suffix(f".{other}.pt"))
    size = Path(options.out).stat().st_size
    log.info("wrote %s (%.1f MB, sha256 %s)", options.out, size / 1e6, sha[:12])
    return TrainReport(Path(options.out), sha, size, len(products), len(held_out), result, params,
                       time.perf_counter() - started,
                       {"plain backbone": plain, **{n: c.scores for n, c in candidates.items()}})


def _real_photos(options: TrainOptions, vocab: dict[str, list[str]]) -> tuple[list, list]:
    if options.real is None:
        return [], []
    photos = load_training_photos(options.real, vocab.get("category"))
    train_photos, validation_photos = split_by_group(photos, options.real_validation, options.seed)
    log.info("real photos from %s: %d for training, %d (other photographers) for validation", options.real,
             len(train_photos), len(validation_photos))
    return train_photos, validation_photos


def _validation(engine: Engine, catalog: np.ndarray, products, photos, options: TrainOptions, key: str) -> Validation:
    features = query_features(engine, [photo.image for photo in photos], options.cache_root, key)
    return Validation(catalog, products, features, photos)


def _finetuned(engine: Engine, options: TrainOptions, products, vocab, params: FitParams, real_train, photos,
               progress: bool):
    """The backbone's last stage and a new head trained together; blend and re-rank tuned on validation
    photos embedded by the tuned backbone."""
    from .finetune import finetune

    log.info("fine-tuning the backbone's last stage on %s for %d steps", engine.device, options.finetune_steps)
    params = replace(params, steps=options.finetune_steps, batch_items=min(params.batch_items, 64))
    model = create_backbone(options.backbone).model
    head, tail = finetune(model, engine.data_config, products, vocab, params, device=engine.device,
                          progress=progress, framing=engine.framing, locator=engine.locator,
                          views_per_item=options.finetune_views, real_photos=real_train,
                          real_shots=options.real_shots, workers=options.workers)
    tuned = Engine(Backbone(model, engine.backbone_name, engine.weights_source, str(engine.fingerprint_fields[
        "weights_sha256"])), engine.device, engine.config, locator=engine.locator)
    packshots = [load_rgb(product.image_link) for product in products]
    catalog = np.concatenate([tuned.backbone_features(tuned.preprocess(packshots[i:i + 64])).numpy()
                              for i in range(0, len(packshots), 64)])
    validation = Validation(catalog, products, np.concatenate(
        [tuned.photo_features([q.image for q in photos[i:i + 64]]).numpy() for i in range(0, len(photos), 64)]),
        photos)
    return Candidate.tuned(head.to(engine.device), tail, validation)


def _brief(scores: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.3f}" for name, value in sorted(scores.items()))
