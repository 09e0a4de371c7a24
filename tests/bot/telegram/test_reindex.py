"""/reindex: admins only, in the background, one at a time, progress edited into one message."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from catalog import FeedError
from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.fakes import FakeRecommender, jpeg

from .conftest import ADMIN, ANN, contains

pytestmark = pytest.mark.usefixtures("bot_app")


async def test_admin_rebuild_reports_progress_in_one_message_while_others_are_served(
        api: BotApiEmulator, recommender: FakeRecommender) -> None:
    recommender.reindex_gate = asyncio.Event()
    api.send_text(ADMIN, "/reindex")
    [started] = await api.wait_for("sendMessage", chat_id=ADMIN.id, text=contains("Rebuilding"))
    message_id = started.result["message_id"]
    await api.wait_for("editMessageText", chat_id=ADMIN.id, text=contains("100% (5/5 images)"))

    api.send_photo(ANN, jpeg("red"))  # served meanwhile
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    api.send_text(ADMIN, "/reindex")
    await api.wait_for("sendMessage", chat_id=ADMIN.id, text=contains("already running"))
    api.send_text(ADMIN, "/reindex status")
    await api.wait_for("sendMessage", chat_id=ADMIN.id, text=lambda t: t and t.startswith("Rebuilding"),
                       count=2)
    assert recommender.reindexing

    recommender.reindex_gate.set()
    [*_, done] = await api.wait_for("editMessageText", chat_id=ADMIN.id, text=contains("rebuilt"))
    assert "indexed 30 products" in done.params["text"]
    edits = api.calls_to("editMessageText", chat_id=ADMIN.id)
    assert {e.params["message_id"] for e in edits} == {message_id}
    assert all(b.at - a.at >= 0.09 for a, b in zip(edits, edits[1:-1], strict=False))  # throttled
    api.send_text(ADMIN, "/reindex status")
    await api.wait_for("sendMessage", chat_id=ADMIN.id, text=contains("Last rebuild: Catalog index rebuilt"))


async def test_a_failed_rebuild_tells_the_admin_why_and_the_old_index_keeps_serving(
        api: BotApiEmulator, recommender: FakeRecommender, caplog: pytest.LogCaptureFixture) -> None:
    recommender.reindex_error = FeedError("catalog.csv: required column 'link' absent")
    before = list(recommender.products)
    api.send_text(ADMIN, "/reindex")
    [failed] = await api.wait_for("editMessageText", chat_id=ADMIN.id, text=contains("failed"))
    assert "required column 'link' absent" in failed.params["text"]
    assert "previous index keeps serving" in failed.params["text"]
    assert any(r.levelno == logging.ERROR and r.exc_info
               for r in caplog.records if r.name == "chat.rebuilds")
    assert recommender.products == before
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)


async def test_a_missing_feed_is_a_failure_with_its_reason(
        api: BotApiEmulator, recommender_settings, recommender: FakeRecommender) -> None:
    Path(recommender_settings.catalog).unlink()
    api.send_text(ADMIN, "/reindex")
    [failed] = await api.wait_for("editMessageText", chat_id=ADMIN.id, text=contains("failed"))
    assert "cannot read feed" in failed.params["text"]


async def test_anyone_else_is_refused_politely_and_it_is_logged(
        api: BotApiEmulator, recommender: FakeRecommender, caplog: pytest.LogCaptureFixture) -> None:
    api.send_text(ANN, "/reindex")
    [refusal] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert refusal.params["text"] == "Sorry, only the bot's admins can rebuild the catalog."
    [audited] = [r for r in caplog.records if r.name == "chat.audit"]
    assert audited.levelno == logging.WARNING
    assert f"user={ANN.id} action='/reindex'" in audited.getMessage()
    assert "outcome=refused: not an admin" in audited.getMessage()
    assert not recommender.reindexing


async def test_reindex_with_an_unknown_argument_shows_usage(api: BotApiEmulator) -> None:
    api.send_text(ADMIN, "/reindex now please")
    await api.wait_for("sendMessage", chat_id=ADMIN.id, text=contains("Usage: /reindex"))
