"""Retrieval quality of the off-the-shelf engine on the shared sample, with user-like photos as queries.

The whole sample is the catalog; the held-out fifth (stratified by article type) is photographed
("easy" and "hard" phone-like views, fixed seed) and each photo is searched. Prints a markdown table.

    python scripts/eval_retrieval.py [--sample ../shared/fashion-sample] [--backbone auto]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from engine import Engine, EngineConfig
from fashionbot.evaluate import format_table, make_queries, retrieval_metrics
from fashionbot.logs import setup_logging
from fashionbot.sample import load_styles, split_holdout, styles_to_products
from index import CatalogIndex, IndexWriter

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=REPO.parent / "shared" / "fashion-sample")
    parser.add_argument("--backbone", default="auto")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "eval")
    args = parser.parse_args()
    setup_logging(logging.WARNING)

    rows = load_styles(args.sample / "styles.csv")
    _, holdout = split_holdout(rows, fraction=0.2, seed=0)
    products = styles_to_products(rows, args.sample / "images")
    engine = Engine.load(EngineConfig(backbone=args.backbone))

    started = time.perf_counter()
    images = [engine.decode(Path(p.image_link).read_bytes()) for p in products]
    with IndexWriter(args.work / "index", fingerprint=engine.fingerprint, dim=engine.dim) as writer:
        writer.add(engine.embed(images), products)
        writer.commit()
    index = CatalogIndex.open(args.work / "index")
    print(f"catalog {len(index)} products embedded in {time.perf_counter() - started:.1f} s "
          f"with {engine.backbone_name}; {len(holdout)} held-out products photographed")

    queries = make_queries(holdout, args.sample / "images")
    started = time.perf_counter()
    results = index.search(engine.embed([q.image for q in queries]), k=11)
    print(f"{len(queries)} photos searched in {time.perf_counter() - started:.1f} s\n")
    print(format_table({f"frozen {engine.backbone_name}, cosine": retrieval_metrics(queries, results)}))


if __name__ == "__main__":
    main()
