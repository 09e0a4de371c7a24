"""A local Telegram Bot API server: real HTTP, Telegram's limits, every call recorded.

Serves ``{url}/bot<token>/<method>`` and ``{url}/file/bot<token>/<file_path>`` on 127.0.0.1, the way
api.telegram.org and a self-hosted telegram-bot-api server do, so a bot pointed at ``url`` cannot tell
the difference for the methods implemented in :mod:`.methods`. Tests and the playground's web page act as
users (``send_text``, ``send_photo``, ``press_button`` …) and read what the bot did from ``calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
from aiohttp import web
from PIL import Image

from .checks import ApiError, bad_request, check_secret_token
from .files import PHOTO_SIZES
from .flood import FloodControl
from .methods import BotApiMethods, Params, Upload, UrlFetcher

log = logging.getLogger(__name__)

# The shape of a real token (bot id, colon, 35 url-safe characters); not a real one, and only ever local.
LOCAL_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-Q"
UPLOAD_LIMIT = 50 * 1024 * 1024
UPDATE_KINDS = ("message", "edited_message", "callback_query", "inline_query", "my_chat_member")


@dataclass(frozen=True)
class TgUser:
    """An emulated Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str = "en"

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                                "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, as the server understood it, and what it answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    status: int
    response: dict[str, Any]
    at: float  # time.monotonic() when answered

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


class BotApiServer:
    """Start with ``async with BotApiServer() as api:``; point the bot at ``api.url``.

    ``port=0`` picks a free port; each of ``extensions``, called with the aiohttp app before it starts,
    may add routes of its own (the playground's page does).
    """

    def __init__(self, token: str = LOCAL_TOKEN, *, username: str = "fashionbot_test_bot",
                 host: str = "127.0.0.1", port: int = 0, url_fetcher: UrlFetcher | None = None) -> None:
        self.token = token
        self.host = host
        self.version = 0  # bumped whenever anything happens: a cheap "has anything changed" for pollers
        self.extensions: list[Callable[[web.Application], None]] = []
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "Fashion Test Bot",
                         "username": username, "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": True, "can_connect_to_business": False,
                         "has_main_web_app": False}
        self.api = BotApiMethods(self.bot_user, url_fetcher)
        self.calls: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 400_000_001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self.flood_control: FloodControl | None = None  # a test turns Telegram's flood limits on
        self._changed: asyncio.Event | None = None  # set, and replaced, whenever anything happens
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False
        self.port = port

    # ---- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> Self:
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        for extend in self.extensions:
            extend(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The server root, as in ``TELEGRAM_API_URL``."""
        return f"http://{self.host}:{self.port}"

    # ---- what users do --------------------------------------------------------------------------------
    def send_text(self, user: TgUser, text: str) -> dict[str, Any]:
        """A text message; a leading ``/command`` gets its bot_command entity, as Telegram adds it."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._user_message(user, content)

    def send_photo(self, user: TgUser, image: bytes, *, caption: str | None = None,
                   sizes: tuple[int, ...] = PHOTO_SIZES) -> dict[str, Any]:
        """A photo, stored as Telegram does: thumbnails at ``sizes``, the original last (largest)."""
        content: dict[str, Any] = {"photo": self.api.files.add_photo(image, sizes)}
        if caption:
            content["caption"] = caption
        return self._user_message(user, content)

    def send_document(self, user: TgUser, data: bytes, *, file_name: str, mime_type: str | None,
                      file_size: int | None = None, announce_size: bool = True) -> dict[str, Any]:
        """A file; ``file_size`` may claim more than ``len(data)`` to stand in for a huge upload, and
        ``announce_size=False`` leaves it out of the message (getFile still knows it)."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self.api.files.add("document", data, extension=extension, file_size=file_size)
        document = {**stored.file_dict(), "file_name": file_name}
        if not announce_size:
            del document["file_size"]
        if mime_type:
            document["mime_type"] = mime_type
        return self._user_message(user, {"document": document})

    def send_sticker(self, user: TgUser, *, emoji: str = "🙂", animated: bool = False) -> dict[str, Any]:
        buffer = io.BytesIO()
        Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(buffer, "WEBP")
        stored = self.api.files.add("sticker", buffer.getvalue(), extension="webp")
        sticker = {**stored.file_dict(), "type": "regular", "width": 512, "height": 512,
                   "is_animated": animated, "is_video": False, "emoji": emoji}
        return self._user_message(user, {"sticker": sticker})

    def send_animation(self, user: TgUser, data: bytes = b"\x00\x00\x00\x18ftypmp42", *,
                       file_name: str = "dance.gif.mp4", mime_type: str = "video/mp4") -> dict[str, Any]:
        """A GIF as Telegram delivers it: an MP4 in ``animation``, repeated in ``document``."""
        stored = self.api.files.add("animation", data, extension="mp4")
        document = {**stored.file_dict(), "file_name": file_name, "mime_type": mime_type}
        animation = {**document, "width": 320, "height": 240, "duration": 3}
        return self._user_message(user, {"animation": animation, "document": document})

    def press_button(self, user: TgUser, data: str, *, message_id: int | None = None) -> str:
        """Press an inline button the bot sent this user (the latest one with ``data``); the query id."""
        query = self.api.callback_query(user.to_dict(), data, message_id)
        self._push_update({"callback_query": query})
        return query["id"]

    def send_inline_query(self, user: TgUser, query: str = "") -> str:
        """``@bot <query>`` typed in any chat; the query id (``api.inline_answers[id]`` once answered)."""
        query_id = str(secrets.randbits(63))
        self.api.inline_answers[query_id] = None
        self._push_update({"inline_query": {"id": query_id, "from": user.to_dict(), "query": query, "offset": "",
                                            "chat_type": "private"}})
        return query_id

    # ---- what tests inspect ----------------------------------------------------------------------------
    def calls_to(self, method: str, *, ok: bool | None = True, **match: Any) -> list[ApiCall]:
        """Calls of ``method`` (any case) whose params match: equal, or a predicate that holds.

        ``ok=True`` (default): successful calls only; ``False``: failed ones; ``None``: both.
        """
        return [call for call in self.calls
                if call.method.lower() == method.lower() and (ok is None or call.ok == ok)
                and all(_matches(call.params.get(key), want) for key, want in match.items())]

    async def wait_for(self, method: str, *, count: int = 1, timeout: float = 10.0, ok: bool | None = True,
                       **match: Any) -> list[ApiCall]:
        """Wait until ``count`` matching calls were answered; fails with the last calls listed."""
        def enough() -> bool:
            return len(self.calls_to(method, ok=ok, **match)) >= count

        try:
            await asyncio.wait_for(self.until(enough), timeout)
        except TimeoutError:
            recent = "\n".join(f"  {c.method} {c.status} {c.params} {c.description or ''}"[:300]
                               for c in self.calls[-15:])
            raise AssertionError(
                f"no {count}× {method} {match} within {timeout}s; last calls:\n{recent}") from None
        return self.calls_to(method, ok=ok, **match)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot has in that chat now (after edits and deletions), oldest first."""
        chat = self.api.chats.get(chat_id)
        return [m for m in chat.messages.values() if m["from"]["id"] == self.bot_user["id"]] if chat else []

    def fail_next(self, method: str, *, code: int = 429, description: str | None = None,
                  retry_after: int | None = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (default: flood control)."""
        if code == 429:
            error = ApiError(429, description or f"Too Many Requests: retry after {retry_after}",
                             {"retry_after": retry_after})
        else:
            error = ApiError(code, description or "Internal Server Error")
        self._failures[method.lower()].extend([error] * times)

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    # ---- HTTP ---------------------------------------------------------------------------------------------
    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw, files = await _read_request(request)
        status, response, values = 200, {}, raw
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = Params(raw, files)
            values = params.values
            if self._failures[method.lower()]:
                raise self._failures[method.lower()].popleft()
            if self.flood_control is not None:
                self.flood_control.check(method, values)
            response = {"ok": True, "result": await self._dispatch(method, params)}
        except ApiError as error:
            status, response = error.code, error.payload()
        self.calls.append(ApiCall(method, values, files, status, response, time.monotonic()))
        self._notify()
        return web.json_response(response, status=status)

    async def _handle_download(self, request: web.Request) -> web.Response:
        stored = self.api.files.by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _dispatch(self, method: str, params: Params) -> Any:
        name = method.lower()
        if name == "getupdates":
            return await self._get_updates(params)
        if name == "setwebhook":
            return await self._set_webhook(params)
        if name == "deletewebhook":
            await self._stop_webhook()
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if name == "getwebhookinfo":
            return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}
        return await self.api.call(method, params)

    # ---- updates: long polling ---------------------------------------------------------------------------
    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = p.integer("offset", 0) or 0, min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(float(p.get("timeout", 0) or 0), 0.0)
        if p.get("allowed_updates") is not None:
            self._allowed_updates = p.get("allowed_updates") or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an earlier poll, if any, is now terminated
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.until(lambda: bool(self._deliverable()) or self._closing
                                               or generation != self._poll_generation), timeout)
        if generation != self._poll_generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that "
                                "only one bot instance is running")
        return self._deliverable()[:limit]

    def _confirm(self, offset: int) -> None:
        """Offset semantics: updates below a positive offset are confirmed; -N keeps the last N."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> list[dict[str, Any]]:
        """Pending updates; those of kinds the bot did not ask for are dropped, as Telegram does."""
        allowed = self._allowed_updates or [k for k in UPDATE_KINDS if k != "my_chat_member"]
        self._updates = [u for u in self._updates if any(kind in u for kind in allowed)]
        return list(self._updates)

    # ---- updates: webhook ---------------------------------------------------------------------------------
    async def _set_webhook(self, p: Params) -> bool:
        url = str(p.required("url"))
        if not url.startswith(("https://", "http://")):  # Telegram demands https; local tests cannot
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        check_secret_token(p.get("secret_token"))
        await self._stop_webhook()
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if p.get("allowed_updates") is not None:
            self._allowed_updates = p.get("allowed_updates") or None
        self.webhook = {"url": url, "secret_token": p.get("secret_token")}
        self._webhook_task = asyncio.create_task(self._deliver_to_webhook(dict(self.webhook)))
        return True

    async def _stop_webhook(self) -> None:
        self.webhook = None
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None

    async def _deliver_to_webhook(self, hook: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
        async with aiohttp.ClientSession() as session:
            while True:
                await self.until(lambda: bool(self._deliverable()))
                update = self._deliverable()[0]
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as response:
                        delivered = response.status == 200
                except aiohttp.ClientError as error:
                    log.debug("webhook delivery failed: %s", error)
                    delivered = False
                if delivered:
                    self._confirm(update["update_id"] + 1)
                else:
                    await asyncio.sleep(0.2)

    # ---- internals ----------------------------------------------------------------------------------------
    def _user_message(self, user: TgUser, content: dict[str, Any]) -> dict[str, Any]:
        message = self.api.user_message(user.to_dict(), content)
        self._push_update({"message": message})
        return message

    def _push_update(self, body: dict[str, Any]) -> None:
        self._updates.append({"update_id": self._next_update_id, **body})
        self._next_update_id += 1
        self._notify()

    def _notify(self) -> None:
        self.version += 1
        if self._changed is not None:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` holds, re-checking whenever anything happens."""
        while not condition():
            assert self._changed is not None, "start the server first"
            await self._changed.wait()


def _matches(value: Any, want: Any) -> bool:
    return bool(want(value)) if callable(want) else value == want


async def _read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body, and the file parts."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = Upload(value.filename or name, value.content_type, value.file.read())
            else:
                raw[name] = value
    return raw, files
