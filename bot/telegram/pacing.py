"""Telegram's flood limits kept: sends paced per chat and overall, every ``retry_after`` honoured, no reply dropped.

Telegram allows about one message a second in a chat (short bursts pass), twenty a minute in a group and
thirty a second in all; beyond that it answers 429 with ``retry_after``. Each message reserves its place in
its chat's and in the overall budget (GCRA, a leaky bucket that hands out waiting times: whoever reserves first
goes first) and waits for it; an album costs one message per photo. A 429 holds the chat back: nothing more
goes to it for ``retry_after`` (a refusal where the chat itself was quiet holds back every chat: it was the
bot's overall limit), then only at the sustained rate, and the message is sent again — until it is delivered
or ``deadline_s`` passes, and only then is it given up, logged with its chat. With Redis the budgets are shared
by every bot process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

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


def reserve(tat: float, now: float, cost: int, rate: Rate, held_until: float = 0.0) -> tuple[float, float]:
    """GCRA: a budget whose next free moment is ``tat`` takes ``cost`` messages at ``now``; nothing goes before
    ``held_until``. Cost 0 (a message whose place was reserved before) takes nothing and only waits out a hold.

    Returns (the new ``tat``, seconds to wait before sending). Reserving again at once queues behind it.
    """
    hold = max(0.0, held_until - now)
    if not cost:
        return tat, hold
    new_tat = max(tat, now) + cost * rate.interval_s
    return new_tat, max(hold, new_tat - now - rate.burst * rate.interval_s)


def hold_back(tat: float, until: float, rate: Rate) -> float:
    """The ``tat`` after Telegram refused a message until ``until``: the burst allowance is spent, so from
    ``until`` on one message goes, then one per interval (Telegram just showed it allows less than we thought)."""
    return max(tat, until + (rate.burst - 1) * rate.interval_s)


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


class Turn(NamedTuple):
    """A reservation: seconds to wait before sending; whether the budget was quiet before it (nothing
    reserved that is still to go, no hold), so a refusal cannot have been this budget's."""

    wait: float
    quiet: bool


class Pace(Protocol):
    """Budgets by key ("chat:42", "all"), in this process or shared."""

    async def reserve(self, key: str, cost: int, rate: Rate) -> Turn:
        """Take ``cost`` messages from the budget (0: only wait out a hold)."""

    async def hold_back(self, key: str, seconds: float, rate: Rate) -> None:
        """Telegram said wait: nothing more goes to this budget for ``seconds``, then only at ``rate``'s pace."""


class LocalPace:
    def __init__(self, max_chats: int = 100_000, clock=time.monotonic) -> None:
        # key → (tat, held until); an entry unused for an hour is long past both.
        self._budgets: ExpiringLRU[str, tuple[float, float]] = ExpiringLRU(max_chats, ttl_s=3600.0, clock=clock)
        self._clock = clock

    async def reserve(self, key: str, cost: int, rate: Rate) -> Turn:
        now = self._clock()
        tat, held_until = self._budgets.get(key) or (0.0, 0.0)
        new_tat, wait = reserve(tat, now, cost, rate, held_until)
        self._budgets[key] = (new_tat, held_until)
        return Turn(wait, bool(cost) and max(tat, held_until) <= now)

    async def hold_back(self, key: str, seconds: float, rate: Rate) -> None:
        tat, held_until = self._budgets.get(key) or (0.0, 0.0)
        until = max(held_until, self._clock() + seconds)
        self._budgets[key] = (hold_back(tat, until, rate), until)


# reserve() and hold_back() in Lua, on Redis's clock (the same for every worker). KEYS: the budget's tat and its
# hold (two plain keys, as a worker of the version before holds reads and writes the tat). All numbers as text.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat, held = tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0')
"""
_RESERVE = _NOW + """
local cost, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = math.max(0, held - now)
if cost == 0 then
  return {string.format('%.6f', wait), 0}
end
local quiet = (math.max(tat, held) <= now) and 1 or 0
tat = math.max(tat, now) + cost * interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return {string.format('%.6f', math.max(wait, tat - now - burst * interval)), quiet}
"""
_HOLD_BACK = _NOW + """
local seconds, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
held = math.max(held, now + seconds)
tat = math.max(tat, held + (burst - 1) * interval)
redis.call('SET', KEYS[2], string.format('%.6f', held), 'PX', math.ceil((held - now) * 1000) + 1000)
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return 1
"""


class RedisPace:
    """The same budgets in Redis: every bot process draws on them, so together they keep Telegram's limits."""

    def __init__(self, redis: Redis, prefix: str = "fashionbot:telegram:pace:") -> None:
        self.prefix = prefix
        self._reserve, self._hold_back = redis.register_script(_RESERVE), redis.register_script(_HOLD_BACK)

    def _keys(self, key: str) -> list[str]:
        return [self.prefix + key, f"{self.prefix}{key}:held"]

    async def reserve(self, key: str, cost: int, rate: Rate) -> Turn:
        wait, quiet = await self._reserve(keys=self._keys(key), args=[cost, rate.interval_s, rate.burst])
        return Turn(float(wait), bool(quiet))

    async def hold_back(self, key: str, seconds: float, rate: Rate) -> None:
        await self._hold_back(keys=self._keys(key), args=[seconds, rate.interval_s, rate.burst])


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
        chat = None if chat_id is None else (f"chat:{chat_id}", chat_rate(_as_id(chat_id)))
        deadline = time.monotonic() + self.deadline_s
        while True:
            chat_quiet = False
            if cost or paced.prepaid:  # a prepaid message takes no budget but still waits out a hold
                turns = [] if chat is None else [await self.pace.reserve(chat[0], cost, chat[1])]
                chat_quiet = bool(turns) and turns[0].quiet
                turns.append(await self.pace.reserve("all", cost, self.overall))
                await self._wait(max(turn.wait for turn in turns))
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
                # Telegram does not say which limit refused: a chat that was quiet cannot have passed its own.
                overall = chat is None or chat_quiet
                log.info("%s to chat %s: flood control%s, sending again in %.1f s", endpoint, chat_id,
                         " for the whole bot" if overall and chat is not None else "", seconds)
                for key, rate in ([chat] if chat is not None else []) + ([("all", self.overall)] if overall else []):
                    await self.pace.hold_back(key, seconds, rate)
                # Sent again: it alone (its follow-ups were reserved). Its new reservation, made now, waits out the
                # hold first in line; a request that reserves nothing waits here.
                cost = message_cost(endpoint, data)
                if not cost:
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
