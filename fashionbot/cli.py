"""The `fashionbot` command line: build and inspect indexes, recommend for photos, run the demo."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from .settings import EngineSettings

app = typer.Typer(help="fashionbot: photos of clothing in, similar catalog products out.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
index_app = typer.Typer(help="Build and inspect catalog indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")

Backbone = Annotated[str | None, typer.Option(help="auto, or a timm model name [env FASHIONBOT_BACKBONE]")]
Device = Annotated[str | None, typer.Option(help="auto, cpu or cuda [env FASHIONBOT_DEVICE]")]


@app.callback()
def configure(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    from .logs import setup_logging

    setup_logging(logging.DEBUG if verbose else logging.INFO)


def _settings(**overrides) -> EngineSettings:
    return EngineSettings(**{key: value for key, value in overrides.items() if value is not None})


@index_app.command("build")
def index_build(
    catalog: Annotated[Path, typer.Option(help="product feed: Merchant Center CSV/TSV or RSS XML")],
    out: Annotated[Path, typer.Option(help="index directory (created; swapped in atomically)")],
    backbone: Backbone = None,
    device: Device = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="images per forward pass")] = None,
    index_type: Annotated[str, typer.Option(help="auto, flat, hnsw or ivfpq")] = "auto",
) -> None:
    """Index every product of a feed (bad rows and images are skipped and reported)."""
    from .commands import build

    raise typer.Exit(build(_settings(backbone=backbone, device=device, batch_size=batch_size),
                           catalog, out, index_type))


@index_app.command("info")
def index_info(directory: Annotated[Path, typer.Argument(help="index directory")]) -> None:
    """Print an index's manifest."""
    from .commands import info

    raise typer.Exit(info(directory))


@app.command()
def recommend(
    images: Annotated[list[Path], typer.Argument(help="photos to find products for")],
    index: Annotated[Path | None, typer.Option(help="index directory [env FASHIONBOT_INDEX]")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="results per photo")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line per image")] = False,
    backbone: Backbone = None,
    device: Device = None,
) -> None:
    """Recommend catalog products for each photo (the model is loaded once)."""
    from .commands import recommend as run

    raise typer.Exit(run(_settings(index=index, backbone=backbone, device=device), images, k, as_json))


@app.command()
def demo(
    k: Annotated[int, typer.Option("--k", min=1, max=20)] = 5,
    index: Annotated[Path | None, typer.Option(help="where the demo index goes")] = None,
) -> None:
    """Build the bundled demo catalog's index (once) and recommend for the example photos."""
    from .commands import demo as run

    raise typer.Exit(run(_settings(index=index), k))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
