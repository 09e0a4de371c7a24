"""`fashionbot catalog …`: look at a product feed without downloading anything or loading a model.

Imports only ``catalog`` (no torch, no FAISS), so checking a feed is quick wherever it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from catalog import FeedError, diagnose, read_feed


def check(feed: Path, as_json: bool = False) -> int:
    """Parse ``feed`` and report what ``index build`` would index; 0 when a product is usable, else 1."""
    try:
        report = read_feed(feed)
    except FeedError as error:
        if as_json:
            print(json.dumps({"products": 0, "skipped": [], "columns": {}, "warnings": [], "error": str(error)},
                             ensure_ascii=False))
        print(f"error: {error}", file=sys.stderr)
        return 1
    diagnosis = diagnose(report, source=str(feed))
    print(diagnosis.to_json() if as_json else diagnosis.text())
    if not diagnosis.usable and as_json:
        print(f"error: {feed}: no usable product in this feed", file=sys.stderr)
    return 0 if diagnosis.usable else 1
