"""Sessions outlive the bot: after a restart /more and /style continue the last photo, with its refinements, in
the user's language, and its pages can still be rated; /healthz and /metrics tell operators what is served."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.telegram.app import build_application
from bot.telegram.settings import BotSettings
from recommender.settings import RecommenderSettings
from tests.auxil.application import running
from tests.auxil.bot_api_emulator import BotApiEmulator, TgUser
from tests.auxil.fakes import FakeRecommender, jpeg
from tests.auxil.redis_server import free_port

from .conftest import ANN, contains

OLGA = TgUser(2001, "Ольга", "olga", language_code="ru")


def fresh_bot(settings: BotSettings, recommender_settings: RecommenderSettings, recommender: FakeRecommender,
              opened: list[FakeRecommender] | None = None):
    async def open_fake(_: RecommenderSettings) -> FakeRecommender:
        if opened is not None:
            opened.append(recommender)
        return recommender

    return build_application(settings, recommender_settings, open_recommender=open_fake)


async def test_after_a_restart_more_and_style_continue_the_last_photo(
        api: BotApiEmulator, settings: BotSettings, recommender_settings: RecommenderSettings, products) -> None:
    async with running(fresh_bot(settings, recommender_settings, FakeRecommender(products))):
        api.send_photo(ANN, jpeg("red"))
        await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
        api.send_text(ANN, "/style women")
        await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter: women."))
    assert (recommender_settings.index.parent / "sessions.sqlite").exists()  # beside the index

    async with running(fresh_bot(settings, recommender_settings, FakeRecommender(products))):  # a redeploy
        api.send_text(ANN, "/more")
        [links] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 7–12"))
        assert "(filter: women)" in links.params["text"]
        api.send_text(ANN, "/style")
        [style] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"))
        assert "colour: Red" in style.params["text"] and "Filter: women." in style.params["text"]
    first, second = api.calls_to("sendMediaGroup", chat_id=ANN.id)
    shown = [item["caption"].split("\n")[0].split(". ", 1)[1] for call in (first, second) for item in
             call.params["media"]]
    assert len(set(shown)) == 12 and all("Women's" in title for title in shown[6:])


async def test_after_a_restart_refinements_language_and_ratings_continue(
        api: BotApiEmulator, settings: BotSettings, recommender_settings: RecommenderSettings, products) -> None:
    async with running(fresh_bot(settings, recommender_settings, FakeRecommender(products))):
        api.send_photo(OLGA, jpeg("red"))
        await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("Совпадения 1–6."))
        api.send_text(OLGA, "без платьев")
        [refined] = await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("(фильтр: кроме: платье)"))
    up = refined.params["reply_markup"]["inline_keyboard"][-1][0]["callback_data"]
    assert up == "rate:up:2"

    async with running(fresh_bot(settings, recommender_settings, FakeRecommender(products))) as application:
        api.send_text(OLGA, "/more")
        await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("(фильтр: кроме: платье)"), count=2)
        api.press_button(OLGA, up)  # a page shown before the restart
        await api.wait_for("sendMessage", chat_id=OLGA.id, text=contains("Спасибо! Рад, что подошло."))
        [kept] = await application.bot_data.assistant.conversation.feedback.ratings()
    assert kept.liked and kept.language == "ru" and kept.filters == {"excluded": [["product_type", "apparel > dress"]]}


async def test_with_redis_ratings_go_to_the_shared_client(
        api: BotApiEmulator, settings: BotSettings, recommender_settings: RecommenderSettings,
        recommender: FakeRecommender, redis_url: str, redis) -> None:
    from pydantic import SecretStr

    shared = recommender_settings.model_copy(update={"redis_url": SecretStr(redis_url)})
    async with running(fresh_bot(settings, shared, recommender)) as application:
        backends = application.bot_data.assistant.backends
        assert backends.stores.feedback.client is backends.stores.redis  # one client for sessions, pacing and ratings
        api.send_photo(ANN, jpeg("blue"))
        [links] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
        api.press_button(ANN, links.params["reply_markup"]["inline_keyboard"][-1][1]["callback_data"])
        await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Thanks — noted."))
    assert len(await redis.lrange("fashionbot:feedback:ratings", 0, -1)) == 1
    assert not (recommender_settings.index / "feedback.sqlite").exists()


async def test_health_and_metrics_tell_what_is_served(
        api: BotApiEmulator, settings: BotSettings, recommender_settings: RecommenderSettings,
        recommender: FakeRecommender) -> None:
    port = free_port()
    settings = settings.model_copy(update={"ops_port": port})
    async with running(fresh_bot(settings, recommender_settings, recommender)), aiohttp.ClientSession() as http:
        api.send_photo(ANN, jpeg("blue"))
        await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "ready": True, "build_id": "fake-build-1",
                                             "products": 30, "reindexing": False}
        for _ in range(50):  # the photo counts once its page was sent: just after the emulator answered
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
            if "fashionbot_photos_served_total 1.0" in text:
                break
            await asyncio.sleep(0.1)
    assert "fashionbot_photos_served_total 1.0" in text
    assert "fashionbot_photo_latency_seconds_count 1.0" in text
    assert 'fashionbot_index_build{build_id="fake-build-1"} 1.0' in text
    assert "fashionbot_index_products 30.0" in text
    assert "fashionbot_telegram_flood_waits_total 0.0" in text
    assert "fashionbot_send_queue_depth 0.0" in text and "fashionbot_update_queue_depth" in text


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
async def test_an_unreachable_redis_fails_the_start_before_the_model_loads(
        api: BotApiEmulator, settings: BotSettings, recommender_settings: RecommenderSettings,
        recommender: FakeRecommender, url: str) -> None:
    from pydantic import SecretStr
    from redis.exceptions import ConnectionError as RedisConnectionError

    shared = recommender_settings.model_copy(update={"redis_url": SecretStr(url)})
    opened: list[FakeRecommender] = []
    with pytest.raises(RedisConnectionError):
        async with running(fresh_bot(settings, shared, recommender, opened)):
            pass
    assert opened == []
