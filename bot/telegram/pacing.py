"""Telegram's flood limits kept: sends paced per chat and overall, every ``retry_after`` honoured, no reply dropped.

Telegram allows about one message a second in a chat (short bursts pass), twenty a minute in a group and
thirty a second in all; beyond that it answers 429 with ``retry_after``. Each message reserves its place in
its chat's and in the overall budget (GCRA, a leaky bucket that hands out waiting times: whoever reserves first
goes first) and waits for it; an album costs one message per photo. A 429 holds the chat back for
``retry_after`` and the message is sent again — until it is delivered or ``deadline_s`` passes, and only then
is it given up, logged with its chat. With Redis the budgets are shared by every bot process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from chat import ExpiringLRU

from .metrics import BotMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paced:
    """What a send tells the pacer (PTB's ``rate_limit_args``): reserve ``follow_ups`` more messages along with
    this one, or send this one on a reservation made before (``prepaid``).

    A page's album reserves its links message too, so the links follow the album at once instead of queueing
    behind every album other users asked for meanwhile.
    """

    follow_ups: int = 0
    prepaid: bool = False


FOLLOWS_UP = Paced(follow_ups=1)
PREPAID = Paced(prepaid=True)


@dataclass(frozen=True)
class Rate:
    """One message per ``interval_s`` sustained; ``burst`` messages may go at once after a quiet spell."""

    interval_s: float
    burst: int


PRIVATE_CHAT = Rate(1.0, 10)  # one full album goes at once; then a message a second
GROUP_CHAT = Rate(3.0, 10)  # twenty a minute sustained
OVERALL = Rate(1 / 30, 30)  # Telegram's default; paid broadcasts (or a self-hosted Bot API server) allow more
DEADLINE_S = 600.0
# What Telegram counts as messages; the rest (chat actions, callback answers, downloads) is not paced.
_EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
                    "copyMessage", "forwardMessage"})


def reserve(tat: float, now: float, cost: int, rate: Rate) -> tuple[float, float]:
    """GCRA: a budget whose next free moment is ``tat`` takes ``cost`` messages at ``now``.

    Returns (the new ``tat``, seconds to wait before sending). Reserving again at once queues behind it.
    """
    new_tat = max(tat, now) + cost * rate.interval_s
    return new_tat, max(0.0, new_tat - now - rate.burst * rate.interval_s)


def message_cost(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages a request counts for: an album one per photo, chat actions and the like none."""
    if endpoint == "sendMediaGroup":
        return len(data.get("media") or ()) or 1
    if endpoint == "sendChatAction":
        return 0
    return 1 if endpoint.startswith("send") or endpoint in _EDITS else 0


def chat_rate(chat_id: int | str) -> Rate:
    """Groups and channels (negative ids, @usernames) have the stricter budget."""
    return GROUP_CHAT if isinstance(chat_id, str) or chat_id < 0 else PRIVATE_CHAT


def overall_rate(messages_per_s: float) -> Rate:
    """The bot's whole budget: ``messages_per_s``, a second's worth at once."""
    return Rate(1 / messages_per_s, max(1, round(messages_per_s)))


def retry_after_s(error: RetryAfter) -> float:
    # Read as PTB's own AIORateLimiter reads it: the public property warns of a type change on each access.
    return error._retry_after.total_seconds()  # noqa: SLF001


class Pace(Protocol):
    """Budgets by key ("chat:42", "all"), in this process or shared."""

    async def reserve(self, key: str, cost: int, rate: Rate) -> float:
        """Take ``cost`` messages from the budget; seconds to wait before sending."""

    async def hold_back(self, key: str, seconds: float) -> None:
        """Telegram said wait: nothing more goes to this budget for ``seconds``."""


class LocalPace:
    def __init__(self, max_chats: int = 100_000, clock=time.monotonic) -> None:
        self._tats: ExpiringLRU[str, float] = ExpiringLRU(max_chats, ttl_s=3600.0, clock=clock)
        self._clock = clock

    async def reserve(self, key: str, cost: int, rate: Rate) -> float:
        self._tats[key], wait = reserve(self._tats.get(key) or 0.0, self._clock(), cost, rate)
        return wait

    async def hold_back(self, key: str, seconds: float) -> None:
        self._tats[key] = max(self._tats.get(key) or 0.0, self._clock() + seconds)


# reserve() in Lua, on Redis's clock (the same for every worker): ARGV cost, interval, burst → wait, as text.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now) + tonumber(ARGV[1]) * interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return string.format('%.6f', math.max(0, tat - now - tonumber(ARGV[3]) * interval))
"""
_HOLD_BACK = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), until_)
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return 1
"""


class RedisPace:
    """The same budgets in Redis: every bot process draws on them, so together they keep Telegram's limits."""

    def __init__(self, redis: Redis, prefix: str = "fashionbot:telegram:pace:") -> None:
        self.prefix = prefix
        self._reserve, self._hold_back = redis.register_script(_RESERVE), redis.register_script(_HOLD_BACK)

    async def reserve(self, key: str, cost: int, rate: Rate) -> float:
        return float(await self._reserve(keys=[self.prefix + key], args=[cost, rate.interval_s, rate.burst]))

    async def hold_back(self, key: str, seconds: float) -> None:
        await self._hold_back(keys=[self.prefix + key], args=[seconds])


class PacedRateLimiter(BaseRateLimiter[Paced]):
    """PTB's rate limiter hook (every Bot API request passes through it), pacing and retrying as above."""

    def __init__(self, *, deadline_s: float = DEADLINE_S, overall_per_s: float = 30.0, pace: Pace | None = None,
                 metrics: BotMetrics | None = None) -> None:
        self.deadline_s, self.pace, self.metrics = deadline_s, pace or LocalPace(), metrics
        self.overall = overall_rate(overall_per_s)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint: str, data: dict[str, Any],
                              rate_limit_args: Paced | None) -> Any:
        paced, chat_id = rate_limit_args or Paced(), data.get("chat_id")
        cost = 0 if paced.prepaid else message_cost(endpoint, data) + paced.follow_ups
        keys = [] if chat_id is None else [(f"chat:{chat_id}", chat_rate(_as_id(chat_id)))]
        deadline = time.monotonic() + self.deadline_s
        while True:
            if cost:
                await self._wait(max([await self.pace.reserve(key, cost, rate) for key, rate in keys]
                                     + [await self.pace.reserve("all", cost, self.overall)]))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_s(error)
                if self.metrics is not None:
                    self.metrics.flood_waits.inc()
                if time.monotonic() + seconds > deadline:
                    log.error("%s to chat %s given up: flood control for %.0f s more would pass the %.0f s "
                              "deadline", endpoint, chat_id, seconds, self.deadline_s)
                    raise
                log.info("%s to chat %s: flood control, sending again in %.1f s", endpoint, chat_id, seconds)
                cost = message_cost(endpoint, data)  # sent again: it alone (its follow-ups were reserved)
                for key, _ in keys or [("all", self.overall)]:
                    await self.pace.hold_back(key, seconds)
                await self._wait(seconds)

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.metrics is not None:
            self.metrics.send_queue.inc()
        try:
            await asyncio.sleep(seconds)
        finally:
            if self.metrics is not None:
                self.metrics.send_queue.dec()


def _as_id(chat_id: Any) -> int | str:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)
