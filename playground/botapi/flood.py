"""Telegram's flood control as the emulator enforces it (off unless a test turns it on): too many messages in a
chat, in a group or in all, and the method answers 429 with ``retry_after``, as Telegram does; and, as Telegram
does, every message to that chat (or, for the overall limit, to any chat) is refused until ``retry_after`` has
passed. Those are counted apart (``refused_while_held``): a bot that waits as told sends none, but for
messages already on their way when the 429 came."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .checks import ApiError

# Methods that send a message (an album: one per photo); chat actions, callback answers and the like are free.
_MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "sendanimation", "sendsticker",
                              "sendvideo", "sendaudio", "sendvoice", "copymessage", "forwardmessage",
                              "editmessagetext", "editmessagecaption", "editmessagereplymarkup"})


@dataclass
class FloodControl:
    """At most ``per_chat`` messages in any ``chat_window_s`` in a private chat, ``per_group`` in
    ``group_window_s`` in a group, ``overall`` in ``overall_window_s`` in all."""

    per_chat: int = 10
    chat_window_s: float = 10.0
    per_group: int = 20
    group_window_s: float = 60.0
    overall: int = 30
    overall_window_s: float = 1.0
    clock: Callable[[], float] = time.monotonic
    refused: int = 0
    refused_while_held: int = 0
    _sent: dict[Any, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _held_until: dict[Any, float] = field(default_factory=dict)

    def check(self, method: str, params: dict[str, Any]) -> None:
        """Count the request's messages, or raise the 429 Telegram would answer (and count nothing)."""
        cost = self._cost(method, params)
        if not cost:
            return
        chat = params.get("chat_id")
        group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        limits = [("all", self.overall, self.overall_window_s),
                  (chat, self.per_group if group else self.per_chat,
                   self.group_window_s if group else self.chat_window_s)]
        now = self.clock()
        held = max(self._held_until.get(key, 0.0) for key, _, _ in limits) - now
        if held > 0:
            self.refused_while_held += 1
            raise _refusal(held)
        waits = {key: self._wait(key, limit, window, cost, now) for key, limit, window in limits}
        key, wait = max(waits.items(), key=lambda item: item[1])
        if wait > 0:
            self.refused += 1
            self._held_until[key] = now + _retry_after(wait)
            raise _refusal(wait)
        for key, _, _ in limits:
            self._sent[key].extend([now] * cost)

    def _wait(self, key: Any, limit: int, window_s: float, cost: int, now: float) -> float:
        """Seconds until ``cost`` more messages fit in the window (0: now)."""
        sent = self._sent[key]
        while sent and sent[0] <= now - window_s:
            sent.popleft()
        excess = len(sent) + cost - limit
        if excess <= 0:
            return 0.0
        if cost > limit:  # never fits at once: Telegram takes it when the chat is quiet
            return sent[-1] + window_s - now if sent else 0.0
        return sent[excess - 1] + window_s - now

    @staticmethod
    def _cost(method: str, params: dict[str, Any]) -> int:
        name = method.lower()
        if name == "sendmediagroup":
            media = params.get("media")
            return len(media) if isinstance(media, list) else 1
        return 1 if name in _MESSAGE_METHODS else 0


def _retry_after(wait: float) -> int:
    return max(1, math.ceil(wait))


def _refusal(wait: float) -> ApiError:
    retry_after = _retry_after(wait)
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
