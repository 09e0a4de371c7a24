"""The emulator's Bot API methods, over an in-memory world of chats, messages and files."""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .checks import (
    ApiError,
    bad_request,
    check_callback_answer,
    check_caption,
    check_chat_action,
    check_commands,
    check_inline_results,
    check_media_group,
    check_reply_markup,
    check_text,
)
from .files import DOWNLOAD_LIMIT, PHOTO_UPLOAD_LIMIT, FileStore, image_dimensions

_JSON_FIELDS = frozenset({"reply_markup", "media", "commands", "allowed_updates", "entities", "results", "button",
                          "caption_entities", "reply_parameters", "link_preview_options", "scope"})
_NUMBER_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
                            "reply_to_message_id", "max_connections", "message_thread_id"})
_BOOL_FIELDS = frozenset({"disable_notification", "protect_content", "show_alert", "drop_pending_updates",
                          "allow_sending_without_reply", "show_caption_above_media", "has_spoiler"})


@dataclass(frozen=True)
class Upload:
    """One multipart file part."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """A request's parameters, decoded the way the Bot API reads form fields (JSON for objects)."""

    def __init__(self, raw: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = {name: _decode(name, value) for name, value in raw.items()}
        self.files = files or {}

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def required(self, name: str) -> Any:
        value = self.values.get(name, self.files.get(name))
        if value in (None, ""):
            raise bad_request(f"{name} is empty")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name, default)
        if value is None or isinstance(value, int):
            return value
        raise bad_request(f"field \"{name}\" must be of type Integer")


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in _NUMBER_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername"
    if name in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


@dataclass
class Chat:
    info: dict[str, Any]
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1


UrlFetcher = Callable[[str], Awaitable[bytes]]
_API_METHODS: set[str] = set()


def _api(method: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a coroutine of BotApiMethods as a Bot API method."""
    _API_METHODS.add(method.__name__)
    return method


class BotApiMethods:
    """One coroutine per Bot API method (``send_media_group`` answers ``sendMediaGroup``)."""

    def __init__(self, bot_user: dict[str, Any], url_fetcher: UrlFetcher | None = None) -> None:
        self.bot_user = bot_user
        self.files = FileStore()
        self.chats: dict[int, Chat] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, bool] = {}  # id → answered
        self.inline_answers: dict[str, list[dict[str, Any]] | None] = {}  # inline query id → its results
        self.unreachable_urls: set[str] = set()
        self.fetched_urls: list[str] = []
        self._url_fetcher = url_fetcher or placeholder_image

    async def call(self, method: str, params: Params) -> Any:
        """Run a method by its Bot API name; like Telegram, names are case-insensitive."""
        name = next((name for name in _API_METHODS if name.replace("_", "") == method.lower()), None)
        if name is None:
            raise ApiError(404, "Not Found")
        return await getattr(self, name)(params)

    # ---- what emulated users do -------------------------------------------------------------------
    def user_message(self, user: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat = self.chats.setdefault(user["id"], Chat(_private_chat(user)))
        return self._new_message(chat, user, content)

    def callback_query(self, user: dict[str, Any], data: str, message_id: int | None) -> dict[str, Any]:
        """A press on an inline button that the bot really sent to this user."""
        chat = self.chats.get(user["id"])
        candidates = reversed(list(chat.messages.values())) if chat else []
        for message in candidates:
            from_bot = message["from"]["id"] == self.bot_user["id"]
            if not from_bot or message_id not in (None, message["message_id"]):
                continue
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == data for row in rows for button in row):
                query_id = str(secrets.randbits(63))
                self.callback_queries[query_id] = False
                return {"id": query_id, "from": user, "message": message, "data": data,
                        "chat_instance": str(user["id"] * 7919)}
        raise LookupError(f"no message from the bot to user {user['id']} has a button with data {data!r}")

    # ---- the methods --------------------------------------------------------------------------------
    @_api
    async def get_me(self, p: Params) -> dict[str, Any]:
        return self.bot_user

    @_api
    async def log_out(self, p: Params) -> bool:
        return True

    @_api
    async def close(self, p: Params) -> bool:
        return True

    @_api
    async def send_message(self, p: Params) -> dict[str, Any]:
        chat = self._chat(p)
        text, markup = p.get("text"), p.get("reply_markup")
        check_text(text, p.get("parse_mode"))
        check_reply_markup(markup)
        return self._new_message(chat, self.bot_user, {"text": text, **self._extras(chat, p, markup)})

    @_api
    async def send_photo(self, p: Params) -> dict[str, Any]:
        chat = self._chat(p)
        check_caption(p.get("caption"), p.get("parse_mode"))
        check_reply_markup(p.get("reply_markup"))
        photo = await self._photo(p.required("photo"), p)
        content = {"photo": photo, **_caption(p.values), **self._extras(chat, p, p.get("reply_markup"))}
        return self._new_message(chat, self.bot_user, content)

    @_api
    async def send_media_group(self, p: Params) -> list[dict[str, Any]]:
        chat = self._chat(p)
        if "reply_markup" in p.values:
            raise bad_request("reply_markup can't be used with media groups")
        media = p.required("media")
        check_media_group(media)
        photos = [await self._photo(item["media"], p) for item in media]
        group_id = str(secrets.randbits(60))
        extras = self._extras(chat, p, None)
        return [self._new_message(chat, self.bot_user, {"media_group_id": group_id, "photo": photo,
                                                         **_caption(item), **extras})
                for item, photo in zip(media, photos, strict=True)]

    @_api
    async def send_chat_action(self, p: Params) -> bool:
        self._chat(p)
        check_chat_action(p.get("action"))
        return True

    @_api
    async def get_file(self, p: Params) -> dict[str, Any]:
        stored = self.files.get(str(p.required("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {**stored.file_dict(), "file_path": stored.file_path}

    @_api
    async def edit_message_text(self, p: Params) -> dict[str, Any]:
        message = self._own_message(p, "message to edit not found")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, markup = p.get("text"), p.get("reply_markup")
        check_text(text, p.get("parse_mode"))
        check_reply_markup(markup)
        return self._edit(message, {"text": text}, markup)

    @_api
    async def edit_message_caption(self, p: Params) -> dict[str, Any]:
        message = self._own_message(p, "message to edit not found")
        check_caption(p.get("caption"), p.get("parse_mode"))
        check_reply_markup(p.get("reply_markup"))
        return self._edit(message, {"caption": p.get("caption")}, p.get("reply_markup"))

    @_api
    async def edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        message = self._own_message(p, "message to edit not found")
        check_reply_markup(p.get("reply_markup"))
        return self._edit(message, {}, p.get("reply_markup"))

    @_api
    async def delete_message(self, p: Params) -> bool:
        chat = self._chat(p)
        if chat.messages.pop(p.integer("message_id") or 0, None) is None:
            raise bad_request("message to delete not found")
        return True

    @_api
    async def answer_callback_query(self, p: Params) -> bool:
        query_id = str(p.required("callback_query_id"))
        if self.callback_queries.get(query_id, True):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        check_callback_answer(p.get("text"))
        self.callback_queries[query_id] = True
        return True

    @_api
    async def answer_inline_query(self, p: Params) -> bool:
        query_id = str(p.required("inline_query_id"))
        if self.inline_answers.get(query_id, True) is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        results = p.get("results") or []
        check_inline_results(results)
        self.inline_answers[query_id] = results
        return True

    @_api
    async def set_my_commands(self, p: Params) -> bool:
        commands = p.required("commands")
        check_commands(commands)
        self.commands[_commands_key(p)] = commands
        return True

    @_api
    async def get_my_commands(self, p: Params) -> list[dict[str, Any]]:
        return self.commands.get(_commands_key(p), [])

    @_api
    async def delete_my_commands(self, p: Params) -> bool:
        self.commands.pop(_commands_key(p), None)
        return True

    # ---- helpers ------------------------------------------------------------------------------------
    def _chat(self, p: Params) -> Chat:
        chat = self.chats.get(p.required("chat_id"))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _own_message(self, p: Params, missing: str) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("inline messages are not emulated")
        message = self._chat(p).messages.get(p.integer("message_id") or 0)
        if message is None:
            raise bad_request(missing)
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return message

    def _new_message(self, chat: Chat, sender: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": chat.next_message_id, "from": sender, "chat": chat.info,
                   "date": int(time.time()), **content}
        chat.messages[chat.next_message_id] = message
        chat.next_message_id += 1
        return message

    def _extras(self, chat: Chat, p: Params, markup: Any) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if markup and "inline_keyboard" in markup:
            extras["reply_markup"] = markup
        reply = p.get("reply_parameters") or (
            {"message_id": p.get("reply_to_message_id")} if p.get("reply_to_message_id") else None)
        if reply:
            message_id = reply.get("message_id")
            replied = chat.messages.get(message_id) if isinstance(message_id, int) else None
            if replied is not None:
                extras["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
            elif not (reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
        return extras

    def _edit(self, message: dict[str, Any], content: dict[str, Any], markup: Any) -> dict[str, Any]:
        new_markup = markup if markup and markup.get("inline_keyboard") else None
        if all(message.get(k) == v for k, v in content.items()) and message.get("reply_markup") == new_markup:
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.update(content, edit_date=int(time.time()))
        if new_markup is None:
            message.pop("reply_markup", None)  # editing without reply_markup removes the keyboard
        else:
            message["reply_markup"] = new_markup
        return message

    async def _photo(self, ref: Any, p: Params) -> list[dict[str, Any]]:
        """A photo sent by upload (``attach://`` or a part of its own), by URL, or by file_id."""
        if isinstance(ref, str) and ref.startswith("attach://"):
            ref = p.files.get(ref.removeprefix("attach://"))
            if ref is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if isinstance(ref, Upload):
            return self._store_photo(ref.data)
        if ref.startswith(("http://", "https://")):
            self.fetched_urls.append(ref)
            if ref in self.unreachable_urls:
                raise bad_request("failed to get HTTP URL content")
            return self._store_photo(await self._url_fetcher(ref))
        photo = self.files.photo_set(ref)
        if photo is None:
            stored = self.files.get(ref)
            raise bad_request(f"can't use file of type {stored.kind.title()} as Photo" if stored
                              else "wrong file identifier/HTTP URL specified")
        return photo

    def _store_photo(self, data: bytes) -> list[dict[str, Any]]:
        if len(data) > PHOTO_UPLOAD_LIMIT:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        dims = image_dimensions(data)
        if dims is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if sum(dims) > 10_000 or max(dims) > 20 * min(dims):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self.files.add_photo(data)




def _private_chat(user: dict[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
    if user.get("username"):
        chat["username"] = user["username"]
    return chat


def _caption(source: dict[str, Any]) -> dict[str, Any]:
    return {"caption": source["caption"]} if source.get("caption") else {}


def _commands_key(p: Params) -> str:
    return json.dumps([p.get("scope") or {"type": "default"}, p.get("language_code") or ""], sort_keys=True)


_PLACEHOLDER: list[bytes] = []


async def placeholder_image(url: str) -> bytes:
    """What a product image URL 'serves' when the test gives no fetcher: a small grey JPEG."""
    if not _PLACEHOLDER:
        buffer = io.BytesIO()
        Image.new("RGB", (120, 160), (200, 200, 200)).save(buffer, "JPEG")
        _PLACEHOLDER.append(buffer.getvalue())
    return _PLACEHOLDER[0]
