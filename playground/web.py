"""The playground's chat page and its small JSON API, served beside the local Bot API server.

The page acts as one Telegram user: ``POST /api/photo`` (a file, or the name of an example photo),
``/api/text`` and ``/api/press`` become updates the bot polls for; ``GET /api/messages?after=V`` long-polls
for the chat as Telegram would show it (albums, captions, inline keyboards, edits); the bot's uploads are
served from ``/files/<file_id>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from .botapi import BotApiServer, TgUser
from .botapi.files import image_dimensions

STATIC = Path(__file__).with_name("static")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
POLL_S = 25.0
TYPING_S = 5.0  # how long Telegram shows "sending photo…" after a chat action
PLAYGROUND_USER = TgUser(100_000_001, "You", "playground_user")


class ChatPage:
    """Routes for one user's chat with the bot, over ``server``; examples come from ``examples_dir``."""

    def __init__(self, server: BotApiServer, examples_dir: Path, user: TgUser = PLAYGROUND_USER) -> None:
        self.server, self.examples_dir, self.user = server, examples_dir, user

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/examples", self._examples)
        app.router.add_get("/examples/{name}", self._example)
        app.router.add_get("/files/{file_id}", self._file)
        app.router.add_get("/api/messages", self._messages)
        app.router.add_post("/api/photo", self._photo)
        app.router.add_post("/api/text", self._text)
        app.router.add_post("/api/press", self._press)

    def examples(self) -> list[str]:
        if not self.examples_dir.is_dir():
            return []
        return sorted(p.name for p in self.examples_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def chat(self) -> dict[str, Any]:
        """The chat now: messages oldest first, in the shape the page draws; and whether the bot is busy."""
        chat = self.server.api.chats.get(self.user.id)
        messages = [self._message(m) for m in chat.messages.values()] if chat else []
        return {"version": self.server.version, "messages": messages, "busy": self._busy()}

    # ---- handlers -------------------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _examples(self, request: web.Request) -> web.Response:
        return web.json_response([{"name": name, "url": f"/examples/{name}"} for name in self.examples()])

    async def _example(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in self.examples():
            raise web.HTTPNotFound()
        return web.FileResponse(self.examples_dir / name)

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.server.api.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type="image/jpeg",
                            headers={"Cache-Control": "max-age=86400"})

    async def _messages(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "-1"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.server.until(lambda: self.server.version != after), POLL_S)
        return web.json_response(self.chat())

    async def _photo(self, request: web.Request) -> web.Response:
        """An upload (``file``) or an example (``example``): a photo when it is an image, else a document."""
        form = await request.post()
        upload, example = form.get("file"), form.get("example")
        if isinstance(upload, web.FileField):
            data, name, mime = upload.file.read(), upload.filename or "upload", upload.content_type
        elif isinstance(example, str) and example in self.examples():
            path = self.examples_dir / example
            data, name, mime = await asyncio.to_thread(path.read_bytes), example, "image/jpeg"
        else:
            raise web.HTTPBadRequest(text="send a 'file' or the name of an 'example'")
        if image_dimensions(data) is not None:
            self.server.send_photo(self.user, data)
        else:
            self.server.send_document(self.user, data, file_name=name, mime_type=mime or None)
        return web.json_response({"ok": True})

    async def _text(self, request: web.Request) -> web.Response:
        text = str((await request.json()).get("text", "")).strip()
        if not text:
            raise web.HTTPBadRequest(text="empty message")
        self.server.send_text(self.user, text[:4096])
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.server.press_button(self.user, str(body.get("data", "")), message_id=body.get("message_id"))
        except LookupError as error:
            raise web.HTTPNotFound(text=str(error)) from None
        return web.json_response({"ok": True})

    # ---- shapes ---------------------------------------------------------------------------------------------
    def _message(self, message: dict[str, Any]) -> dict[str, Any]:
        photo = message.get("photo")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return {
            "id": message["message_id"],
            "from_bot": message["from"]["id"] == self.server.bot_user["id"],
            "text": message.get("text") or message.get("caption") or "",
            "photo": f"/files/{_medium(photo)['file_id']}" if photo else None,
            "document": (message.get("document") or {}).get("file_name"),
            "album": message.get("media_group_id"),
            "edited": "edit_date" in message,
            "buttons": [[{"text": b["text"], "url": b.get("url"), "data": b.get("callback_data")}
                         for b in row] for row in rows],
        }

    def _busy(self) -> bool:
        """Like Telegram's "sending photo…": a chat action in the last seconds, with nothing sent since."""
        for call in reversed(self.server.calls):
            if call.params.get("chat_id") != self.user.id or not call.ok:
                continue
            if call.method.lower() == "sendchataction":
                return time.monotonic() - call.at < TYPING_S
            if call.method.lower() in ("sendmessage", "sendmediagroup", "sendphoto"):
                return False
        return False


def _medium(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The size Telegram's clients show in a chat: the smallest at least 320 px wide, else the largest."""
    fitting = [s for s in sizes if int(s.get("width") or 0) >= 320]
    return min(fitting, key=lambda s: s["width"]) if fitting else sizes[-1]
