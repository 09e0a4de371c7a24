"""`fashionbot train`, top to bottom: labelled catalog → honest split → feature cache → grid → head → artifact."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engine import Engine, EngineConfig
from engine.heads import HeadArtifact

from .cache import ViewRecipe, compute_features, held_out_digest
from .data import load_labelled, split, vocabularies
from .fit import FitParams, fit_head
from .grid import Grid, GridResult, Validation, grid_search

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
    recipe: ViewRecipe = field(default_factory=ViewRecipe)
    cache_root: Path = Path("var/features")
    grid: Grid | None = field(default_factory=Grid)  # None: the base parameters, no search
    base: FitParams = field(default_factory=FitParams)
    version: str = "1"
    # Fine-tune the backbone's last stage with the head: "auto" (on a GPU), "on" or "off" (heads only).
    finetune: str = "auto"
    finetune_steps: int = 3000


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

    engine = Engine.load(EngineConfig(backbone=options.backbone, device=options.device, artifact=None))
    features = compute_features(engine, {p.id: Path(p.image_link) for p in products}, options.recipe,
                                options.cache_root, progress=progress)
    fit_part, validation_part = split(products, options.validation, options.seed + 1)
    validation_ids = {p.id for p in validation_part}
    log.info("grid search: %d items fit, %d validate", len(fit_part), len(validation_part))
    if options.grid is not None:
        result = grid_search(features, products, vocab, validation_ids, options.grid, options.base,
                             device=engine.device)
        params, raw_weight, weights, keep_top = result.best, result.raw_weight, result.rerank_weights, result.keep_top
        validation_scores = result.rerank_scores
    else:
        fit_products = [p for p in products if p.id not in validation_ids]
        head = fit_head(features.subset([p.id for p in fit_products]), fit_products, vocab, options.base,
                        device=engine.device)
        raw_weight, weights, keep_top, validation_scores = Validation(features, products,
                                                                      validation_ids).tune_use(head)
        result, params = None, options.base

    # The chosen setting is refit on every training item (validation included); the hold-out stays unseen.
    tail = None
    if options.finetune == "on" or (options.finetune == "auto" and engine.device.type == "cuda"):
        from engine.backbones import create_backbone

        from .finetune import finetune

        log.info("fine-tuning the backbone's last stage on %s for %d steps", engine.device, options.finetune_steps)
        params = replace(params, steps=options.finetune_steps, batch_items=min(params.batch_items, 64))
        head, tail = finetune(create_backbone(options.backbone).model, engine.preprocess, products, vocab, params,
                              device=engine.device, progress=progress)
    else:
        head = fit_head(features, products, vocab, params, device=engine.device, progress=progress)
    head = head.with_raw_weight(raw_weight)
    training = {
        "name": f"fashion-head-v{options.version}",
        "catalog": str(options.catalog),
        "items": len(products),
        "held_out": {"fraction": options.holdout, "seed": options.seed, "count": len(held_out),
                     "ids_sha256": held_out_digest(held_out)},
        "recipe": asdict(options.recipe),
        "params": asdict(params),
        "rerank": weights,
        "rerank_keep_top": keep_top,
        "raw_weight": raw_weight,
        "validation": {"fraction": options.validation, **validation_scores},
    }
    training["finetuned"] = tail is not None
    artifact = HeadArtifact(head, engine.backbone_name, engine.backbone_fingerprint, options.version, training,
                            backbone_state=tail)
    sha = artifact.save(options.out)
    size = Path(options.out).stat().st_size
    log.info("wrote %s (%.1f MB, sha256 %s)", options.out, size / 1e6, sha[:12])
    return TrainReport(Path(options.out), sha, size, len(products), len(held_out), result, params,
                       time.perf_counter() - started)
