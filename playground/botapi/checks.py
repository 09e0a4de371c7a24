"""Telegram's limits as the emulator enforces them: each check raises the error Telegram would return."""

from __future__ import annotations

import html
import re
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
ALBUM_MIN, ALBUM_MAX = 2, 10
MAX_COMMANDS = 100
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TAG = re.compile(r"<[^>]+>")
_BUTTON_KINDS = ("url", "callback_data", "switch_inline_query", "switch_inline_query_current_chat",
                 "switch_inline_query_chosen_chat", "copy_text", "web_app", "login_url", "callback_game",
                 "pay")


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": …, "description": …}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def visible_length(text: str, parse_mode: str | None) -> int:
    """Length as Telegram counts it: after entity parsing (markup does not count)."""
    if not parse_mode:
        return len(text)
    if parse_mode.upper() == "HTML":
        return len(html.unescape(_TAG.sub("", text)))
    if parse_mode.lower() in ("markdown", "markdownv2"):
        return len(re.sub(r"\\(.)|[*_~`|]", r"\1", text))
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def check_text(text: str | None, parse_mode: str | None = None) -> None:
    if not text or not text.strip():
        raise bad_request("message text is empty")
    if visible_length(text, parse_mode) > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: str | None, parse_mode: str | None = None) -> None:
    if caption and visible_length(caption, parse_mode) > MAX_CAPTION:
        raise bad_request("message caption is too long")


def check_reply_markup(markup: Any) -> None:
    """Inline keyboards: every button has text and exactly one action; data and URLs are valid."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return  # reply keyboards, ForceReply and ReplyKeyboardRemove are not checked further
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for button in row:
            _check_button(button)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: "
                          "Text buttons are unallowed in the inline keyboard")
    kinds = [kind for kind in _BUTTON_KINDS if kind in button]
    if len(kinds) != 1:
        raise bad_request("can't parse inline keyboard button: "
                          "exactly one of the optional fields must be used")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")


def check_media_group(media: Any) -> None:
    if not isinstance(media, list):
        raise bad_request("can't parse media JSON object")
    if not ALBUM_MIN <= len(media) <= ALBUM_MAX:
        raise bad_request(f"media must contain {ALBUM_MIN}-{ALBUM_MAX} items")
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "audio", "document"):
            raise bad_request("can't parse InputMedia: media type is invalid")
        if not item.get("media"):
            raise bad_request("can't parse InputMedia: media not found")
        check_caption(item.get("caption"), item.get("parse_mode"))


def check_commands(commands: Any) -> None:
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "can't parse commands")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def check_chat_action(action: str | None) -> None:
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")


def check_callback_answer(text: str | None) -> None:
    if text and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def check_secret_token(secret: str | None) -> None:
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")


MAX_INLINE_RESULTS = 50


def check_inline_results(results: list[dict[str, Any]]) -> None:
    """At most 50 results, each with a unique id of 1-64 bytes and a type; their keyboards and captions valid."""
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    ids = [str(result.get("id", "")) for result in results]
    if any(not 0 < len(i.encode()) <= 64 for i in ids) or len(set(ids)) != len(ids):
        raise bad_request("RESULT_ID_INVALID" if len(set(ids)) == len(ids) else "RESULT_ID_DUPLICATE")
    for result in results:
        if not result.get("type"):
            raise bad_request("RESULT_TYPE_INVALID")
        check_reply_markup(result.get("reply_markup"))
        if result.get("caption"):
            check_caption(result["caption"], result.get("parse_mode"))
