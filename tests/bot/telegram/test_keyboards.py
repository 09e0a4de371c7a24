"""Telegram's side: the core's buttons as inline keyboards, and the replies to Telegram-only media."""

from __future__ import annotations

import pytest
from telegram import Message

from bot.telegram import incoming, keyboards
from chat.i18n import language
from chat.replies import Button

EN = language("en")


def test_keyboard_turns_links_into_url_buttons_and_actions_into_callback_data() -> None:
    rows = [[Button("4. Sneaker — 49.90 EUR", url="https://shop.example.com/p/1")],
            [Button("More ▸", action="more"), Button("Style", action="style")], []]
    keyboard = keyboards.keyboard(rows).inline_keyboard
    assert [(b.text[:2], b.url) for b in keyboard[0]] == [("4.", "https://shop.example.com/p/1")]
    assert [b.callback_data for b in keyboard[1]] == ["more", "style"]
    assert len(keyboard) == 2 and keyboards.keyboard([]) is None


@pytest.mark.parametrize(("message", "expected"), [
    ({"sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1,
                  "is_animated": False, "is_video": False}}, incoming.STICKER),
    ({"animation": {"file_id": "a", "file_unique_id": "u", "width": 1, "height": 1, "duration": 1},
      "document": {"file_id": "a", "file_unique_id": "u"}}, incoming.ANIMATION),
    ({"voice": {"file_id": "v", "file_unique_id": "u", "duration": 1}}, incoming.OTHER_MEDIA),
    ({"text": "hi"}, incoming.OTHER_MEDIA),
])
def test_unsupported_messages(message: dict, expected: str) -> None:
    full = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, **message}
    assert incoming.unsupported(Message.de_json(full, None), EN) == expected


def test_file_replies() -> None:
    assert incoming.too_big(EN, 25 * 2**20, 20 * 2**20).startswith("That file is 25.0 MB; bots can only download "
                                                              "files up to 20 MB.")
