"""What `fashionbot train`, `eval` and `map` do, apart from argument parsing."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from engine import Engine, EngineConfig
from engine.config import AUTO_ARTIFACT, DEFAULT_ARTIFACT
from engine.heads import HeadArtifact, HeadArtifactError
from training.trainer import TrainOptions, train

log = logging.getLogger(__name__)


def train_command(options: TrainOptions) -> int:
    try:
        report = train(options)
    except (ValueError, HeadArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if report.grid is not None:
        print("grid search on validation (best first):\n")
        print(report.grid.table())
        print(f"\nchosen on validation: re-rank weights {report.grid.rerank_weights}, keeping the visual top "
              f"{report.grid.keep_top} in place; raw_weight {report.grid.raw_weight:g}")
    if report.validation:
        from training.grid import objective

        print("\nvalidation (independent-generator photos of validation items; real photos by other photographers):")
        for name, scores in report.validation.items():
            print(f"  {name:<16} objective {objective(scores):.3f}  " + "  ".join(
                f"{key} {value:.3f}" for key, value in sorted(scores.items())))
    print(f"\n{report.artifact}: {report.size_bytes / 1e6:.1f} MB, sha256 {report.sha256[:16]}, trained on "
          f"{report.items} items ({report.held_out} held out) with {report.params.describe()} "
          f"in {report.seconds / 60:.1f} min")
    return 0


def eval_command(sample: Path, backbone: str, device: str, artifact: str | None, out_dir: Path,
                 cache_root: Path, real_photos: Path | None = None, query_framing: str = "auto",
                 real_feeds: Path | None = None, runtime: str = "torch", garment_model: str = "student") -> int:
    from training.evaluation import evaluate_sample

    path = None
    if artifact and artifact.lower() != "none":
        path = DEFAULT_ARTIFACT if artifact == AUTO_ARTIFACT else Path(artifact)
        try:
            HeadArtifact.load(path)
        except HeadArtifactError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    try:
        result = evaluate_sample(sample, backbone=backbone, device=device, artifact=path, real_photos=real_photos,
                                 cache_root=cache_root, out_dir=out_dir, query_framing=query_framing,
                                 real_feeds=real_feeds, runtime=runtime, garment_model=garment_model)
    except (HeadArtifactError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(result.report())
    return 0


def map_command(catalog: Path, out: Path, *, backbone: str, device: str, artifact: str | None, mosaic: bool,
                projector: Path | None, cache_root: Path) -> int:
    from training.data import load_labelled
    from training.embedding_map import catalog_vectors, draw_map, export_projector, layout_2d

    engine = Engine.load(EngineConfig(backbone=backbone, device=device,
                                      artifact=None if (artifact or "none").lower() == "none" else artifact))
    products = load_labelled(catalog)
    vectors = catalog_vectors(engine, products, cache_root)
    space = (f"learned head {engine.head.training.get('name', '')}" if engine.head
             else f"{engine.backbone_name} features")
    picture = draw_map(layout_2d(vectors), products, out,
                       f"{len(products)} products of {catalog.name}: {space}, PCA → t-SNE, coloured by category",
                       mosaic=mosaic)
    print(f"map: {picture}")
    if projector:
        print(f"projector files: {export_projector(vectors, products, projector)}")
    return 0
