"""Shop the look, measured: which regions photos of people get, what each region finds, that flat-lays stay whole,
and what the pose model costs.

    python scripts/eval_regions.py [--index var/regions/index] [--sample ../shared/fashion-sample]
                                   [--real-photos ../shared/real-photos] [--clothing ../shared/clothing-dataset]

People: scikit-image's astronaut, and the shared sample's product photos that show a model wearing the product
(photographs the project did not make; the sample's ``articleType`` names the garment the product is). For each
photo the pose model finds a person in: whether the labelled garment's region is among the regions chosen (a
T-shirt's ``top``, a dress's ``full``, jeans' ``bottom``…), and the type precision of the first five results of
each region (the share whose sub-category is one of the region's kinds) and of the labelled garment's region
(the share of the product's own article type, the product itself left out of its results), next to the whole
photo's. The index is the demo catalog (the same 808 products), built here if missing.

Flat-lays: every photo of ``--real-photos`` and of ``--clothing`` must keep the one region ``whole``.
Cost: the detector alone (what a photo without a person pays) and the whole pose pipeline, CPU p50 on one thread.
Not a test: it prints numbers for this machine.
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from catalog import read_feed
from catalog.vocabulary.vocabulary import PARENT
from engine.pose import PoseLocator
from engine.runtime import load_engine
from index import CatalogIndex, IndexNotFoundError
from recommender.attributes import article_type, sub_category
from recommender.indexing import build_index
from recommender.logs import setup_logging
from recommender.protocol import Query
from recommender.regions import REGION_KINDS, WHOLE, OutfitFinder, decode, policy_for
from recommender.rerank import RerankPolicy, ranked_search
from recommender.settings import DEMO_FEED, RecommenderSettings

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
K = 5
BATCH = 16
ASTRONAUT = REPO / "var" / "regions" / "astronaut.png"  # scikit-image's, written here for the engine to decode


def region_of(sub: str) -> str | None:
    """The region a garment of this sub-category is worn in."""
    return next((name for name, kinds in REGION_KINDS.items() if sub in kinds), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=REPO / "var" / "regions" / "index")
    parser.add_argument("--sample", type=Path, default=SHARED / "fashion-sample")
    parser.add_argument("--real-photos", type=Path, default=SHARED / "real-photos")
    parser.add_argument("--clothing", type=Path, default=SHARED / "clothing-dataset")
    parser.add_argument("--timing-runs", type=int, default=30)
    parser.add_argument("--parts", default="people,flat-lays,cost", help="which measurements, joined by commas")
    args = parser.parse_args()
    setup_logging(logging.WARNING)
    settings = RecommenderSettings(index=args.index, _env_file=None)
    engine = load_engine(settings.engine_config())
    try:
        index = CatalogIndex.open(args.index, engine.fingerprint)
    except IndexNotFoundError:
        build_index(DEMO_FEED, args.index, engine, cache_dir=settings.cache_dir)
        index = CatalogIndex.open(args.index, engine.fingerprint)
    products = {product.id: product for product in read_feed(DEMO_FEED).products}
    finder = OutfitFinder(engine)
    policy = RerankPolicy.of(engine.head, settings.rerank)

    def ranked(query: Query, leave_out: str | None) -> list[str]:
        """The first K results as the bot ranks them (a region's with its prior), the photographed product left
        out: it is in the catalog too."""
        hits = ranked_search(index, query.vector, query.attributes, K + 1, policy=policy_for(query, policy))
        return [hit.product.id for hit in hits if hit.product.id != leave_out][:K]

    parts = set(args.parts.split(","))
    if "people" in parts or "cost" in parts:
        from skimage import data

        ASTRONAUT.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.astronaut()).save(ASTRONAUT)
    if "people" in parts:
        people(args, finder, ranked, products, engine)
    if "flat-lays" in parts:
        flat_lays(args, finder)
    if "cost" in parts:
        cost(args, finder, engine)


def people(args, finder: OutfitFinder, ranked, products, engine) -> None:
    rows = list(csv.DictReader((args.sample / "styles.csv").open()))
    photos = [(args.sample / "images" / f"{row['id']}.jpg", row) for row in rows]
    photos.append((ASTRONAUT, {"id": "astronaut", "articleType": "Jackets", "subCategory": "Topwear"}))
    found, right, chosen = 0, 0, Counter()
    missed: Counter = Counter()
    kind_precision: dict[str, list[float]] = defaultdict(list)
    type_region, type_whole = [], []
    for start in range(0, len(photos), BATCH):
        batch = photos[start:start + BATCH]
        outfits = finder.find([path.read_bytes() for path, _ in batch])
        wholes, attributes = engine.embed_photos([engine.decode(path.read_bytes()) for path, _ in batch])
        for number, ((_, row), outfit) in enumerate(zip(batch, outfits, strict=True)):
            if isinstance(outfit, Exception) or not outfit.regions:
                continue
            found += 1
            names = [region.name for region in outfit.regions]
            chosen[" + ".join(names)] += 1
            expected = region_of(PARENT.get(row["articleType"], row["subCategory"]))
            right += expected in names
            if expected not in names:
                missed[f"{row['articleType']} → {'+'.join(names)}"] += 1
            for region in outfit.regions:
                ids = ranked(region.query, row["id"])
                kinds = REGION_KINDS[region.name]
                kind_precision[region.name].append(np.mean([sub_category(products[i]) in kinds for i in ids]))
                if region.name == expected:
                    type_region.append(np.mean([article_type(products[i]) == row["articleType"] for i in ids]))
                    whole = Query(wholes[number], attributes[number] if attributes else None, engine.fingerprint)
                    whole_ids = ranked(whole, row["id"])
                    type_whole.append(np.mean([article_type(products[i]) == row["articleType"] for i in whole_ids]))
    print(f"\n## People ({len(photos)} photos: the sample's {len(photos) - 1} product photos and the astronaut)\n")
    print(f"a person found in {found}; the labelled garment's region among the regions chosen: {right}/{found} "
          f"({right / max(found, 1):.1%})")
    print("regions chosen, most prominent first: " + ", ".join(f"{names} {count}" for names, count in
                                                                chosen.most_common()))
    print("labelled garment without its region: " + (", ".join(f"{what} {count}" for what, count in
                                                                missed.most_common(12)) or "none"))
    print("\n| region | photos | kind P@5 (results of the region's kinds) |\n|---|---:|---:|")
    for name, values in sorted(kind_precision.items()):
        print(f"| {name} | {len(values)} | {np.mean(values):.3f} |")
    print(f"\nthe labelled garment's article type P@5 (the product itself left out), {len(type_region)} photos: "
          f"its region {np.mean(type_region):.3f}, the whole photo {np.mean(type_whole):.3f}")


def flat_lays(args, finder: OutfitFinder) -> None:
    print("\n## Flat-lays keep one region\n")
    for name, folder in (("real-photos", args.real_photos / "images"), ("clothing-dataset", args.clothing / "images")):
        paths = sorted(folder.glob("*.jpg"))
        if not paths:
            continue
        split = []
        for start in range(0, len(paths), BATCH):
            batch = paths[start:start + BATCH]
            for path, outfit in zip(batch, finder.find([path.read_bytes() for path in batch]), strict=True):
                if not isinstance(outfit, Exception) and outfit.regions:
                    split.append((path.name, [region.name for region in outfit.regions]))
        print(f"{name}: {len(paths) - len(split)}/{len(paths)} keep the one region \"{WHOLE}\""
              + (f"; split: {split[:10]}" if split else ""))


def cost(args, finder: OutfitFinder, engine) -> None:
    locator = PoseLocator.load(threads=1)
    flat_paths = sorted((args.real_photos / "images").glob("*.jpg"))[:10]
    person_paths = [ASTRONAUT, REPO / "demo" / "photos" / "dress-37936.jpg",
                    REPO / "demo" / "photos" / "tshirt-1882.jpg"]
    flat = [ImageOps.exif_transpose(Image.open(path)).convert("RGB") for path in flat_paths]
    person = [ImageOps.exif_transpose(Image.open(path)).convert("RGB") for path in person_paths]

    def p50(function, items) -> float:
        for item in items:
            function(item)
        times = []
        for _ in range(max(1, args.timing_runs // len(items))):
            for item in items:
                started = time.perf_counter()
                function(item)
                times.append(time.perf_counter() - started)
        return 1000 * statistics.median(times)

    print("\n## Cost (CPU p50)\n")
    print("The pose models on one thread, photos already decoded:")
    print(f"- detector alone, flat-lays (what a photo without a person adds): {p50(locator.detect, flat):.1f} ms")
    print(f"- detector + face check + landmarks, people: {p50(locator.locate, person):.1f} ms")
    flat_blobs, person_blobs = [path.read_bytes() for path in flat_paths], [path.read_bytes() for path in person_paths]
    flat_photos = [decode(engine, blob) for blob in flat_blobs]
    print("As served (the engine's threads, the pose models' one), per photo:")
    print(f"- decoding a photo: {p50(engine.decode, flat_blobs):.1f} ms; embedding it (today's photo()): "
          f"{p50(lambda photo: engine.embed_photos([photo.image]), flat_photos):.1f} ms")
    print(f"- what regions add to a photo without a person (the decoded photo through the pose detector): "
          f"{p50(lambda photo: finder.regions([photo]), flat_photos):.1f} ms")
    print(f"- a person's regions from the bytes (decode, pose, each garment's crop embedded): "
          f"{p50(lambda blob: finder.find([blob]), person_blobs):.1f} ms")


if __name__ == "__main__":
    main()
