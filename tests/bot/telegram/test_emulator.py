"""The Bot API emulator itself: Telegram's answers, limits and update semantics, over raw HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.auxil.bot_api_emulator import TEST_TOKEN, BotApiEmulator, TgUser
from tests.auxil.fakes import jpeg

ANN = TgUser(1001, "Ann")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, api: BotApiEmulator, method: str, token: str = TEST_TOKEN,
               **params: Any) -> tuple[int, dict]:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with http.post(f"{api.url}/bot{token}/{method}", data=form) as response:
        return response.status, await response.json()


def error(description: str, code: int = 400) -> tuple[int, dict]:
    return code, {"ok": False, "error_code": code, "description": description}


async def test_get_me_and_a_wrong_token(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, api, "getMe")
    assert status == 200 and body["result"]["is_bot"] and body["result"]["username"] == "fashionbot_test_bot"
    assert await call(http, api, "getMe", token="1:wrong") == error("Unauthorized", 401)
    assert await call(http, api, "sendSomething") == error("Not Found", 404)


async def test_get_updates_offset_and_long_polling(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    for text in ("one", "two", "three"):
        api.send_text(ANN, text)
    _, body = await call(http, api, "getUpdates")
    ids = [u["update_id"] for u in body["result"]]
    assert [u["message"]["text"] for u in body["result"]] == ["one", "two", "three"]
    _, body = await call(http, api, "getUpdates", offset=ids[1], limit=1)
    assert [u["message"]["text"] for u in body["result"]] == ["two"]  # "one" is now confirmed
    _, body = await call(http, api, "getUpdates", offset=-1)
    assert [u["message"]["text"] for u in body["result"]] == ["three"]
    _, body = await call(http, api, "getUpdates", offset=ids[2] + 1, timeout=0.2)
    assert body["result"] == [] and api.pending_updates == 0

    poll = asyncio.create_task(call(http, api, "getUpdates", offset=ids[2] + 1, timeout=5))
    await asyncio.sleep(0.1)
    api.send_text(ANN, "/more")
    _, body = await asyncio.wait_for(poll, 2)
    [update] = body["result"]
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]


async def test_a_second_poller_terminates_the_first(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    first = asyncio.create_task(call(http, api, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(call(http, api, "getUpdates", timeout=0.3))
    assert await asyncio.wait_for(first, 2) == error(
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 409)
    assert (await second)[1]["result"] == []


@pytest.mark.parametrize(("method", "params", "description"), [
    ("sendMessage", {"text": "x" * 4097}, "message is too long"),
    ("sendMessage", {"text": " "}, "message text is empty"),
    ("sendMessage", {"text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]}},
     "BUTTON_DATA_INVALID"),
    ("sendMessage", {"text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "b", "url": "/p/1"}]]}},
     "BUTTON_URL_INVALID"),
    ("sendPhoto", {"photo": "https://x.example/a.jpg", "caption": "c" * 1025}, "message caption is too long"),
    ("sendMediaGroup", {"media": [{"type": "photo", "media": "https://x.example/a.jpg"}]},
     "media must contain 2-10 items"),
    ("sendMediaGroup", {"media": [{"type": "photo", "media": f"https://x.example/{i}.jpg"} for i in range(11)]},
     "media must contain 2-10 items"),
    ("sendMediaGroup", {"media": [{"type": "photo", "media": f"https://x.example/{i}.jpg"} for i in range(2)],
                        "reply_markup": {"inline_keyboard": []}}, "reply_markup can't be used with media groups"),
    ("sendMediaGroup", {"media": [{"type": "photo", "media": "AgACnope"}, {"type": "photo", "media": "AgACno"}]},
     "wrong file identifier/HTTP URL specified"),
    ("sendChatAction", {"action": "dancing"}, "wrong parameter action in request"),
    ("editMessageText", {"message_id": 999, "text": "x"}, "message to edit not found"),
])
async def test_telegrams_limits_are_enforced(api: BotApiEmulator, http: aiohttp.ClientSession, method: str,
                                             params: dict, description: str) -> None:
    api.send_text(ANN, "hi")  # the chat exists once the user wrote
    assert await call(http, api, method, chat_id=ANN.id, **params) == error(f"Bad Request: {description}")
    assert api.calls_to(method, ok=False)[0].description == f"Bad Request: {description}"


async def test_unknown_chats_and_set_my_commands_rules(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    assert await call(http, api, "sendMessage", chat_id=4242, text="hi") == error("Bad Request: chat not found")
    assert await call(http, api, "setMyCommands", commands=[{"command": "More", "description": "x"}]) == \
        error("Bad Request: BOT_COMMAND_INVALID")
    commands = [{"command": "more", "description": "Next matches"}]
    assert (await call(http, api, "setMyCommands", commands=commands))[1]["result"] is True
    assert (await call(http, api, "getMyCommands"))[1]["result"] == commands


async def test_uploads_get_file_ids_that_can_be_reused_and_files_download(
        api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    api.send_text(ANN, "hi")
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ANN.id))
    form.add_field("media", json.dumps([{"type": "photo", "media": "attach://a", "caption": "A"},
                                        {"type": "photo", "media": "https://x.example/b.jpg"}]))
    form.add_field("a", jpeg("red", (400, 300)), filename="a.jpg", content_type="image/jpeg")
    async with http.post(f"{api.url}/bot{TEST_TOKEN}/sendMediaGroup", data=form) as response:
        messages = (await response.json())["result"]
    assert messages[0]["media_group_id"] == messages[1]["media_group_id"] and messages[0]["caption"] == "A"
    assert [(s["width"], s["height"]) for s in messages[0]["photo"]] == [(90, 68), (320, 240), (400, 300)]
    file_id = messages[0]["photo"][-1]["file_id"]
    _, again = await call(http, api, "sendPhoto", chat_id=ANN.id, photo=file_id)
    assert again["result"]["photo"] == messages[0]["photo"]

    _, file = await call(http, api, "getFile", file_id=file_id)
    async with http.get(f"{api.url}/file/bot{TEST_TOKEN}/{file['result']['file_path']}") as response:
        assert await response.read() == jpeg("red", (400, 300))
    async with http.get(f"{api.url}/file/bot1:wrong/{file['result']['file_path']}") as response:
        assert response.status == 404


async def test_edits_callback_answers_and_injected_failures(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    api.send_text(ANN, "hi")
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    _, sent = await call(http, api, "sendMessage", chat_id=ANN.id, text="a", reply_markup=markup)
    message_id = sent["result"]["message_id"]
    assert (await call(http, api, "editMessageText", chat_id=ANN.id, message_id=message_id, text="b"))[0] == 200
    assert "reply_markup" not in api.messages(ANN.id)[-1]  # an edit without a keyboard removes it
    status, body = await call(http, api, "editMessageText", chat_id=ANN.id, message_id=message_id, text="b")
    assert body["description"].startswith("Bad Request: message is not modified")
    with pytest.raises(LookupError):
        api.press_button(ANN, "more")
    await call(http, api, "editMessageReplyMarkup", chat_id=ANN.id, message_id=message_id, reply_markup=markup)
    query_id = api.press_button(ANN, "more")
    assert (await call(http, api, "answerCallbackQuery", callback_query_id=query_id))[1]["result"] is True
    assert (await call(http, api, "answerCallbackQuery", callback_query_id=query_id))[0] == 400

    api.fail_next("sendMessage", retry_after=3)
    assert await call(http, api, "sendMessage", chat_id=ANN.id, text="x") == (
        429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
              "parameters": {"retry_after": 3}})
    assert (await call(http, api, "sendMessage", chat_id=ANN.id, text="x"))[0] == 200


async def test_get_file_refuses_files_over_twenty_megabytes(api: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    document = api.send_document(ANN, b"x", file_name="a.png", mime_type="image/png", file_size=20 * 2**20 + 1)
    assert await call(http, api, "getFile", file_id=document["document"]["file_id"]) == error(
        "Bad Request: file is too big")


async def test_a_gif_arrives_as_animation_and_document(api: BotApiEmulator) -> None:
    message = api.send_animation(ANN)
    assert message["animation"]["file_id"] == message["document"]["file_id"]
