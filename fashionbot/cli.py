"""The `fashionbot` command line: build and inspect indexes, recommend for photos, run the demo and playground."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from recommender.settings import RecommenderSettings

app = typer.Typer(help="fashionbot: photos of clothing in, similar catalog products out.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
index_app = typer.Typer(help="Build and inspect catalog indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")
catalog_app = typer.Typer(help="Check product feeds (nothing is downloaded).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
feedback_app = typer.Typer(help="What users said with 👍 / 👎.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")

Backbone = Annotated[str | None, typer.Option(help="auto, or a timm model name [env FASHIONBOT_BACKBONE]")]
Device = Annotated[str | None, typer.Option(help="auto, cpu or cuda [env FASHIONBOT_DEVICE]")]


@app.callback()
def configure(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    from recommender.logs import setup_logging

    setup_logging(logging.DEBUG if verbose else logging.INFO)


def _settings(**overrides) -> RecommenderSettings:
    from recommender.settings import RecommenderSettings  # here, not at the top: `catalog check` needs no torch

    return RecommenderSettings(**{key: value for key, value in overrides.items() if value is not None})


@index_app.command("build")
def index_build(
    catalog: Annotated[Path, typer.Option(help="product feed: Merchant Center CSV/TSV or RSS XML")],
    out: Annotated[Path, typer.Option(help="index directory (created; swapped in atomically)")],
    backbone: Backbone = None,
    device: Device = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="images per forward pass")] = None,
    index_type: Annotated[str, typer.Option(help="auto, flat, hnsw or ivfpq")] = "auto",
    ray: Annotated[str | None, typer.Option(
        "--ray", metavar="ADDRESS|local",
        help="fetch, decode and embed on Ray Data: 'local' starts Ray on this machine, an address joins a "
             "cluster (GPU actors where it has GPUs); needs the ray extra")] = None,
) -> None:
    """Index every product of a feed (bad rows and images are skipped and reported)."""
    from .catalog_commands import build

    raise typer.Exit(build(_settings(backbone=backbone, device=device, batch_size=batch_size),
                           catalog, out, index_type, ray_address=ray))


@index_app.command("info")
def index_info(
    directory: Annotated[Path, typer.Argument(help="index directory")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Print an index's manifest, where its labels came from (feed / image / none), and the products whose
    images contradict their feed's labels."""
    from .catalog_commands import info

    raise typer.Exit(info(directory, as_json))


@catalog_app.command("check")
def catalog_check(
    feed: Annotated[Path, typer.Argument(help="product feed: Merchant Center CSV/TSV or RSS XML")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Parse a feed and report what `index build` would index: counts, coverage, warnings, skipped rows."""
    from .feed_commands import check

    raise typer.Exit(check(feed, as_json))


@feedback_app.command("report")
def feedback_report(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    db: Annotated[Path | None, typer.Option(help="ratings SQLite file [env FASHIONBOT_FEEDBACK_DB; default: "
                                                 "feedback.sqlite in the index directory]")] = None,
) -> None:
    """Share of liked pages, the worst queries, and which product types disappoint (Redis where
    FASHIONBOT_REDIS_URL is set)."""
    import asyncio

    from .feedback_commands import report

    raise typer.Exit(asyncio.run(report(_settings(feedback_db=db), as_json)))


@app.command()
def recommend(
    images: Annotated[list[Path], typer.Argument(help="photos to find products for")],
    index: Annotated[Path | None, typer.Option(help="index directory [env FASHIONBOT_INDEX]")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="results per photo")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line per image")] = False,
    regions: Annotated[bool, typer.Option(
        "--regions", help="a photo of a person: results per garment worn (top, bottom or full, shoes), most "
                          "prominent first; other photos: the one region \"whole\"")] = False,
    backbone: Backbone = None,
    device: Device = None,
) -> None:
    """Recommend catalog products for each photo (the model is loaded once)."""
    from .catalog_commands import recommend as run

    raise typer.Exit(run(_settings(index=index, backbone=backbone, device=device), images, k, as_json, regions))


@app.command()
def demo(
    k: Annotated[int, typer.Option("--k", min=1, max=20)] = 5,
    index: Annotated[Path | None, typer.Option(help="where the demo index goes")] = None,
) -> None:
    """Build the bundled demo catalog's index (once) and recommend for the example photos."""
    from .catalog_commands import demo as run

    raise typer.Exit(run(_settings(index=index), k))


@app.command()
def playground(
    port: Annotated[int, typer.Option(min=1, max=65535, help="where the page and Bot API server listen")] = 8080,
    index: Annotated[Path | None, typer.Option(help="index directory [default: FASHIONBOT_INDEX, var/index]")] = None,
) -> None:
    """Try the bot in your browser: a local Bot API server and chat page, with the real bot against it."""
    import asyncio

    from playground import serve

    raise typer.Exit(asyncio.run(serve(port, index, typer.echo)))


SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SAMPLE = SHARED / "fashion-sample"
REAL_TRAINING = SHARED / "clothing-dataset"  # real photos for training (never the evaluation's real-photos)
REAL_EVALUATION = SHARED / "real-photos"
REAL_FEEDS = SHARED / "real-feeds"
Artifact = Annotated[str, typer.Option(help="head artifact: auto (the shipped one), a file, or none")]
CacheRoot = Annotated[Path, typer.Option(help="feature cache directory")]


@app.command()
def train(
    catalog: Annotated[Path, typer.Option(help="labelled catalog: a styles.csv (images/ beside it) or a feed "
                                               "with article_type/color/gender/usage columns")] = SAMPLE / "styles.csv",
    out: Annotated[Path, typer.Option(help="artifact file to write")] = Path("models/fashion-head-v3.pt"),
    holdout: Annotated[float, typer.Option(min=0, max=0.9, help="share kept out for testing (0: none)")] = 0.2,
    seed: Annotated[int, typer.Option(help="split seed")] = 0,
    views: Annotated[int, typer.Option(min=1, help="user-like views per training image in the feature cache")] = 8,
    grid: Annotated[bool, typer.Option(help="grid-search lr, weight decay, width, margin on validation")] = True,
    steps: Annotated[int, typer.Option(min=1, help="optimiser steps per fit")] = 400,
    finetune: Annotated[str, typer.Option(help="fine-tune the backbone's last stage: on, off, or auto (on a GPU "
                                               "only)")] = "on",
    finetune_steps: Annotated[int, typer.Option(min=1, help="fine-tuning steps")] = 800,
    backbone: Annotated[str, typer.Option(help="timm model name")] = "tf_efficientnet_lite0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    cache: CacheRoot = Path("var/features"),
    real: Annotated[Path | None, typer.Option(help="real photos with coarse labels (labels.csv + images/); "
                                                   "'none' for catalog views only")] = REAL_TRAINING,
    framing: Annotated[str, typer.Option(help="how user photos are framed (whole, centre, garment, cutout, "
                                              "mirror, joined by +)")] = "centre+garment",
    workers: Annotated[int | None, typer.Option(min=1, help="view-rendering processes (default: cores - 1)")] = None,
    version: Annotated[str, typer.Option(help="the artifact's version: it is named fashion-head-v<version>")] = "3",
) -> None:
    """Train attribute heads and a retrieval projection on user-like views and real photos; choose on photos that
    training never sees (the independent generator's, other photographers')."""
    _require_training_extra()
    from training.cache import ViewRecipe
    from training.fit import FitParams
    from training.grid import Grid
    from training.trainer import TrainOptions

    from .research import train_command

    raise typer.Exit(train_command(TrainOptions(
        catalog=catalog, out=out, backbone=backbone, device=device, holdout=holdout, seed=seed,
        recipe=ViewRecipe(views=views), cache_root=cache, grid=Grid() if grid else None,
        base=FitParams(steps=steps), finetune=finetune, finetune_steps=finetune_steps,
        real=None if real is None or str(real).lower() == "none" or not real.exists() else real, framing=framing,
        workers=workers, version=version)))


@app.command("eval")
def evaluate(
    sample: Annotated[Path, typer.Option(help="the labelled sample (styles.csv + images/)")] = SAMPLE,
    artifact: Artifact = "auto",
    backbone: Annotated[str, typer.Option(help="timm model name")] = "tf_efficientnet_lite0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    out: Annotated[Path, typer.Option(help="where pictures go")] = Path("var/eval"),
    cache: CacheRoot = Path("var/features"),
    real_photos: Annotated[Path | None, typer.Option(help="real photos labelled for evaluation (labels.csv + "
                                                          "images/); never trained on")] = REAL_EVALUATION,
    framing: Annotated[str, typer.Option(help="how the head's engine frames photos: auto (what it was trained "
                                              "with) or views joined by +")] = "auto",
    real_feeds: Annotated[Path | None, typer.Option(help="shops' feeds whose label coverage to report")] = REAL_FEEDS,
    runtime: Annotated[str, typer.Option(help="what computes the backbone's features: torch, or onnx (as the CPU "
                                              "bot serves them; parity with torch's rows)")] = "torch",
    garment_model: Annotated[str, typer.Option(help="what finds the garment in photos: student, or u2netp (its "
                                                    "teacher)")] = "student",
) -> None:
    """Retrieval quality on photos of held-out products (both generators) and real photos: the plain backbone vs
    the learned head vs the shipped head + re-ranking, on the sample's labels and on a foreign shop's; whether
    the shipped model is ever worse; where catalogs' labels come from."""
    _require_training_extra()
    from .research import eval_command

    raise typer.Exit(eval_command(sample, backbone, device, artifact, out, cache, real_photos, framing, real_feeds,
                                  runtime, garment_model))


@app.command("map")
def embedding_map(
    catalog: Annotated[Path, typer.Option(help="labelled catalog (feed or styles.csv)")] = Path("demo/catalog.csv"),
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("var/map/catalog.png"),
    mosaic: Annotated[bool, typer.Option(help="draw each product's thumbnail at its point")] = False,
    projector: Annotated[Path | None, typer.Option(help="also export TensorBoard projector files here")] = None,
    artifact: Artifact = "auto",
    backbone: Annotated[str, typer.Option(help="timm model name")] = "tf_efficientnet_lite0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    cache: CacheRoot = Path("var/features"),
) -> None:
    """A 2-D picture of the catalog's embedding (PCA → t-SNE), coloured by category."""
    _require_training_extra()
    from .research import map_command

    raise typer.Exit(map_command(catalog, out, backbone=backbone, device=device, artifact=artifact, mosaic=mosaic,
                                 projector=projector, cache_root=cache))


@app.command()
def bench(
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    quick: Annotated[bool, typer.Option("--quick", help="FAISS at 100 k items; < 2 min")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    backbone: Annotated[str, typer.Option(help="auto, or a timm model name")] = "auto",
    weights: Annotated[str | None, typer.Option(help="weights file, or 'random' (speed figures only)")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="images per forward pass")] = None,
    runtime: Annotated[str, typer.Option(help="what serves the builds and queries: auto, onnx or torch")] = "auto",
    precision: Annotated[str, typer.Option(help="ONNX Runtime's precision: fp32 or int8")] = "fp32",
    garment_model: Annotated[str, typer.Option(help="what finds the garment in photos: student or u2netp")] = "student",
) -> None:
    """Measure the model's ceiling, index builds, query latency and FAISS index types in one run."""
    from .bench import bench_command

    raise typer.Exit(bench_command(device=device, quick=quick, as_json=as_json, backbone=backbone, weights=weights,
                                   batch_size=batch_size, runtime=runtime, precision=precision,
                                   garment_model=garment_model))


TRAINING_LIBRARIES = ("pytorch_metric_learning", "sklearn", "matplotlib")


def _require_training_extra() -> None:
    """train, eval and map need the ``train`` extra; without it, say so instead of a traceback."""
    import importlib.util

    missing = [name for name in TRAINING_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        typer.echo(f"error: this command needs the train extra ({', '.join(missing)} missing): "
                   "pip install -e '.[train]'", err=True)
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
