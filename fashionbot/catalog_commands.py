"""What the CLI commands do; kept apart from argument parsing so each reads top to bottom."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

from tqdm import tqdm

from catalog import FeedError, read_feed
from engine.runtime import EmbeddingEngine, load_engine
from index import CatalogIndex, CatalogIndexError, LabelReport, Manifest, SearchHit
from index.records import ProductRecords
from index.store import PRODUCTS, resolve_build
from recommender.indexing import BuildProgress, BuildReport, ProgressCallback, build_index
from recommender.rerank import RerankPolicy, ranked_search
from recommender.settings import DEMO_FEED, DEMO_PHOTOS, RecommenderSettings

log = logging.getLogger(__name__)
Outcome = TypeVar("Outcome")


class _Build(Protocol):
    """What build_index and build_index_ray share, so that the one call below is checked against both."""

    def __call__(self, feed_path: Path, out_dir: Path, engine: EmbeddingEngine, *, index_type: str = ...,
                 cache_dir: Path | None = ..., progress: ProgressCallback | None = ...,
                 allow_private_hosts: bool = ..., max_views: int = ...) -> BuildReport: ...


def build(settings: RecommenderSettings, catalog: Path, out: Path, index_type: str = "auto",
          engine: EmbeddingEngine | None = None, ray_address: str | None = None) -> int:
    """``ray_address``: build on Ray Data ("local" or a cluster address; the ``ray`` extra) instead of here."""
    run: _Build = build_index
    if ray_address:
        try:
            from recommender.ray_indexing import build_index_ray
        except ImportError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        run = partial(build_index_ray, address=ray_address)
    engine = engine or load_engine(settings.engine_config())
    with tqdm(desc="indexing", unit="img", dynamic_ncols=True) as bar:
        def show(update: BuildProgress) -> None:
            bar.total = update.total
            bar.update(update.done - bar.n)

        try:
            report = run(catalog, out, engine, index_type=index_type, cache_dir=settings.cache_dir,
                         progress=show, allow_private_hosts=settings.allow_private_image_hosts,
                         max_views=settings.max_images_per_product)
        # OSError: a feed's host unreachable, or an index directory that cannot be written (the demo's default
        # is var/index under wherever it is started).
        except (FeedError, ValueError, CatalogIndexError, OSError) as error:
            bar.close()
            print(f"error: {error}", file=sys.stderr)
            return 1
    for reference, reason in report.skipped[:20]:
        print(f"  skipped {reference}: {reason}")
    if len(report.skipped) > 20:
        print(f"  … and {len(report.skipped) - 20} more (see the log)")
    assert report.manifest is not None  # a build that returns was published
    print(f"{report.summary()} → {out} ({report.manifest.index_key}, {engine.backbone_name})")
    return 0


CONTRADICTIONS_SHOWN = 50  # in the text; --json lists them all


def info(directory: Path, as_json: bool = False) -> int:
    """The manifest, where the products' labels came from, and the products whose packshots contradict their
    feed's labels."""
    try:
        build_dir = resolve_build(directory)
        manifest = Manifest.read(build_dir)
        records = ProductRecords(build_dir / PRODUCTS)
    except (CatalogIndexError, sqlite3.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        labels = records.label_report()
    finally:
        records.close()
    if as_json:
        print(json.dumps({"index": str(directory), "build": build_dir.name, "manifest": vars(manifest),
                          "labels": labels.to_dict()}, ensure_ascii=False))
        return 0
    print(f"index      {directory} (build {build_dir.name})")
    for key, value in vars(manifest).items():
        if key != "labels":
            print(f"{key:<14} {json.dumps(value) if isinstance(value, dict) else value}")
    print(_labels_text(labels))
    return 0


def _labels_text(labels: LabelReport) -> str:
    lines = [f"\nlabels          {'feed':>7} {'image':>7} {'none':>7}"]
    lines += [f"  {attribute:<13} {counts['feed']:>7} {counts['image']:>7} {counts['none']:>7}"
              for attribute, counts in labels.coverage.items()]
    if not any(counts["feed"] or counts["image"] for counts in labels.coverage.values()):
        lines.append("  (no labels: built before labels were kept, or nothing in the feed names them and there is no "
                     "head; `fashionbot index build` labels a catalog)")
    products = len({row["id"] for row in labels.contradicted})
    lines.append(f"\ncontradicted   {products} products: their images show another label than their feed's")
    for row in labels.contradicted[:CONTRADICTIONS_SHOWN]:
        lines.append(f"  {row['id']}  {row['attribute']}: feed {row['feed']!r}, image {row['image']!r} "
                     f"({row['image_confidence']:.2f}; labelled by the {row.get('won', 'feed')})")
    if len(labels.contradicted) > CONTRADICTIONS_SHOWN:
        lines.append(f"  … and {len(labels.contradicted) - CONTRADICTIONS_SHOWN} more (--json lists them all)")
    return "\n".join(lines)


def recommend(settings: RecommenderSettings, images: list[Path], k: int, as_json: bool, regions: bool = False) -> int:
    engine = load_engine(settings.engine_config())
    try:
        index = CatalogIndex.open(settings.index, engine.fingerprint)
    except CatalogIndexError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if regions:  # per garment worn (fashionbot/region_commands.py)
        from .region_commands import rank_regions, regions_json, regions_table

        return _print_outcomes(images, rank_regions(settings, engine, index, images, k), as_json, regions_json,
                               regions_table)
    return _print_outcomes(images, rank_images(settings, engine, index, images, k), as_json, _as_json, _as_table)


def _print_outcomes(images: list[Path], outcomes: Sequence[Outcome | str], as_json: bool,
                    to_json: Callable[[Path, Outcome | str], dict],
                    to_table: Callable[[Path, Outcome | str], str]) -> int:
    """Each image's outcome as a JSON line or a table; 1 when any image was unusable."""
    failures = 0
    for path, outcome in zip(images, outcomes, strict=True):
        if isinstance(outcome, str):
            failures += 1
        if as_json:
            print(json.dumps(to_json(path, outcome), ensure_ascii=False), flush=True)
        else:
            print(to_table(path, outcome))
    return 1 if failures else 0


def rank_images(settings: RecommenderSettings, engine: EmbeddingEngine, index: CatalogIndex, images: list[Path],
                k: int) -> list[list[SearchHit] | str]:
    """Hits for each image in order (decoded and re-ranked as the bot does), or why an image was unusable."""
    policy = RerankPolicy.of(engine.head, settings.rerank)
    size = engine.config.batch_size
    outcomes: list[list[SearchHit] | str] = []
    for start in range(0, len(images), size):
        blobs: list[bytes] = []
        unreadable: list[str | None] = []  # per image: why it could not be read, None when it could
        for path in images[start:start + size]:
            try:
                blobs.append(Path(path).read_bytes())
                unreadable.append(None)
            except OSError as error:
                blobs.append(b"")  # refused by the decoder below; the read error is what the user sees
                unreadable.append(error.strerror or str(error))
        photos, errors = engine.decode_photos(blobs)
        vectors, attributes = engine.embed_photos(photos)
        row = 0
        for read_error, decode_error in zip(unreadable, errors, strict=True):
            if decode_error is not None:
                outcomes.append(read_error or str(decode_error))
                continue
            outcomes.append(ranked_search(index, vectors[row], attributes[row] if attributes else None, k,
                                          policy=policy))
            row += 1
    return outcomes


def _as_json(path: Path, outcome: list[SearchHit] | str) -> dict:
    if isinstance(outcome, str):
        return {"query": str(path), "error": outcome}
    return {"query": str(path), "results": results_json(outcome)}


def results_json(hits: list[SearchHit]) -> list[dict]:
    """The fields `recommend --json` gives of each result."""
    return [{"id": hit.product.id, "score": round(hit.score, 5), "similarity": round(hit.similarity, 5),
             "rank": hit.rank + 1, "title": hit.product.title,
             "link": hit.product.link, "image_link": hit.product.image_link, "price": hit.product.price,
             "color": hit.product.color, "gender": hit.product.gender, "product_type": hit.product.product_type}
            for hit in hits]


def _as_table(path: Path, outcome: list[SearchHit] | str) -> str:
    if isinstance(outcome, str):
        return f"{path}: error: {outcome}\n"
    return results_table(str(path), outcome)


def results_table(heading: str, hits: list[SearchHit]) -> str:
    lines = [f"{heading}:"]
    lines += [f"  {hit.rank + 1:>2}. {hit.score:5.3f}  {hit.product.title[:60]:<60}  {hit.product.link}"
              for hit in hits]
    return "\n".join(lines) + "\n"


def demo(settings: RecommenderSettings, k: int) -> int:
    """Build the demo index when missing or stale, then recommend for each example photo."""
    engine = load_engine(settings.engine_config())
    feed_hash = read_feed(DEMO_FEED).source_hash
    try:
        index = CatalogIndex.open(settings.index, engine.fingerprint)
        stale = index.manifest.source_hash != feed_hash
    except CatalogIndexError:
        stale = True
    if stale:
        print(f"building the demo index from {DEMO_FEED} into {settings.index} …")
        if build(settings, DEMO_FEED, settings.index, engine=engine) != 0:
            return 1
        index = CatalogIndex.open(settings.index, engine.fingerprint)
    photos = sorted(DEMO_PHOTOS.glob("*.jpg"))
    print(f"\n{len(index)} products indexed with {engine.backbone_name}; recommending for {len(photos)} photos\n")
    found = 0
    for path, outcome in zip(photos, rank_images(settings, engine, index, photos, k), strict=True):
        print(_as_table(path.relative_to(DEMO_PHOTOS.parent.parent), outcome), end="")
        shown_id = path.stem.rsplit("-", 1)[-1]
        if isinstance(outcome, list):
            rank = next((hit.rank + 1 for hit in outcome if hit.product.id == shown_id), None)
            found += rank is not None
            print(f"      the photographed product ({shown_id}) is "
                  + (f"result #{rank}\n" if rank else f"not in the top {k}\n"))
    print(f"found the photographed product in the top {k} for {found} of {len(photos)} photos")
    return 0
