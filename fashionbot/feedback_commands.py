"""``fashionbot feedback report``: what the kept ratings say, for the shop."""

from __future__ import annotations

import json

from chat.feedback import open_feedback
from chat.feedback_report import report as summarise
from recommender.settings import RecommenderSettings


async def report(settings: RecommenderSettings, as_json: bool) -> int:
    store = open_feedback(settings.feedback_path, settings.redis_address)
    try:
        found = summarise(await store.ratings())
    finally:
        await store.aclose()
    print(json.dumps(found.to_dict(), ensure_ascii=False) if as_json else found.text())
    return 0
