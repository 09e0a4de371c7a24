"""``python -m bot`` as a process: configuration errors give a clear message and exit code, never the token."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from recommender.logs import SecretMaskFilter
from tests.auxil.bot_api_emulator import TEST_TOKEN, BotApiEmulator

REPO = Path(__file__).resolve().parents[3]
SECRET = TEST_TOKEN.split(":")[1]


def bot_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FASHIONBOT_"))}
    return {**keep, "FASHIONBOT_INDEX": str(tmp_path / "index"), "FASHIONBOT_CACHE_DIR": str(tmp_path / "cache"),
            "HF_HUB_OFFLINE": "1", **variables}


async def run_bot(environment: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=REPO, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, output.decode()


async def test_a_missing_token_is_a_configuration_error(tmp_path: Path) -> None:
    code, output = await run_bot(bot_environment(tmp_path))
    assert code == os.EX_CONFIG
    assert "configuration error: TELEGRAM_BOT_TOKEN is not set" in output


async def test_a_malformed_token_is_named_but_never_shown(tmp_path: Path) -> None:
    code, output = await run_bot(bot_environment(tmp_path, TELEGRAM_BOT_TOKEN=f"bot{TEST_TOKEN}"))
    assert code == os.EX_CONFIG
    assert "TELEGRAM_BOT_TOKEN is malformed" in output and SECRET not in output


async def test_a_token_telegram_rejects_exits_cleanly_without_showing_it(tmp_path: Path) -> None:
    async with BotApiEmulator(token="7012345678:" + "Z" * 35) as api:  # knows another token
        code, output = await run_bot(bot_environment(tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN,
                                                     TELEGRAM_API_URL=api.url, LOG_LEVEL="DEBUG"))
    assert code == os.EX_CONFIG, output
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in output
    assert [c.status for c in api.calls] == [401]
    assert SECRET not in output and "<token>" in output  # PTB logged the URL: masked


def test_tracebacks_are_masked_as_well_as_messages() -> None:
    try:
        raise ValueError(f"The token `{TEST_TOKEN}` was rejected by the server.")
    except ValueError as error:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, (type(error), error, None))
    SecretMaskFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "The token `<token>` was rejected" in text and SECRET not in text


def test_discord_tokens_and_registered_secrets_are_masked_in_messages_and_tracebacks() -> None:
    from recommender.logs import mask_value

    discord_token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
    mask_value("webhook-secret-0123456789")
    try:
        raise RuntimeError(f"login failed for {discord_token} (hook webhook-secret-0123456789)")
    except RuntimeError as error:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", (discord_token,),
                                   (type(error), error, None))
    SecretMaskFilter().filter(record)
    text = logging.Formatter().format(record)
    assert discord_token not in text and "webhook-secret-0123456789" not in text
    assert text.count("<token>") == 2 and "<secret>" in text


async def test_workers_sharing_redis_behind_a_webhook_need_one_configured_secret(tmp_path: Path) -> None:
    code, output = await run_bot(bot_environment(
        tmp_path, TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_WEBHOOK_URL="https://bot.example.com/hook",
        FASHIONBOT_REDIS_URL="redis://127.0.0.1:1/0"))
    assert code == os.EX_CONFIG
    assert "TELEGRAM_WEBHOOK_SECRET must be set when workers share FASHIONBOT_REDIS_URL" in output
    assert "redis://" not in output
