"""Retrieval quality on the shared sample, with user-like photos as queries: the same as `fashionbot eval`.

The whole sample is the catalog; the held-out fifth (stratified by article type) is photographed by both
view generators (fixed seed), and real photos are searched too. Prints markdown tables: the plain backbone,
and with a head artifact also the learned head, the shipped head + re-ranking, and the never-worse check.

    python scripts/eval_retrieval.py [--sample ../shared/fashion-sample] [--artifact auto|none|FILE]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from fashionbot.research import eval_command
from recommender.logs import setup_logging

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=REPO.parent / "shared" / "fashion-sample")
    parser.add_argument("--backbone", default="tf_efficientnet_lite0")
    parser.add_argument("--artifact", default="auto")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "eval")
    parser.add_argument("--real-photos", type=Path, default=REPO.parent / "shared" / "real-photos")
    args = parser.parse_args()
    setup_logging(logging.WARNING)
    raise SystemExit(eval_command(args.sample, args.backbone, "auto", args.artifact, args.work,
                                  REPO / "var" / "features", args.real_photos))


if __name__ == "__main__":
    main()
