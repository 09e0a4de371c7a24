"""The bot's settings from the environment: names, parsing, and errors that never echo a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.startup import describe_errors
from bot.telegram.settings import BotSettings
from tests.auxil.bot_api_emulator import TEST_TOKEN


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_ADMIN_IDS", "TELEGRAM_ALBUM_SIZE",
                 "LOG_LEVEL", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "12, 34,56")
    monkeypatch.setenv("TELEGRAM_ALBUM_SIZE", "8")
    settings = BotSettings()
    assert settings.bot_token.get_secret_value() == TEST_TOKEN and TEST_TOKEN not in repr(settings)
    assert settings.bot_url == "http://127.0.0.1:8081/bot"
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.admin_ids == {12, 34, 56} and settings.album_size == 8
    assert settings.webhook_url is None and settings.log_level == "INFO"


def test_dot_env_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TEST_TOKEN}\nLOG_LEVEL=debug\nFASHIONBOT_INDEX=x\n")
    settings = BotSettings()
    assert settings.bot_token.get_secret_value() == TEST_TOKEN and settings.log_level == "DEBUG"


@pytest.mark.parametrize(("environment", "message"), [
    ({}, "TELEGRAM_BOT_TOKEN is not set"),
    ({"TELEGRAM_BOT_TOKEN": "7012345678-AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-Q"},
     "TELEGRAM_BOT_TOKEN is malformed: a bot token looks like 123456789:AAE…"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_ALBUM_SIZE": "12"},
     "TELEGRAM_ALBUM_SIZE Input should be less than or equal to 10"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_API_URL": "api.telegram.org"},
     "TELEGRAM_API_URL must be an http(s) URL"),
    ({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "TELEGRAM_WEBHOOK_SECRET": "has spaces"},
     "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters"),
])
def test_bad_settings_are_named_without_their_values(monkeypatch: pytest.MonkeyPatch, environment: dict,
                                                    message: str) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        BotSettings()
    text = describe_errors(caught.value, "TELEGRAM_")
    assert text.startswith(message)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text and "has spaces" not in text


def test_an_env_file_readable_by_others_gets_a_warning(tmp_path, caplog) -> None:
    import logging

    from bot.startup import warn_if_readable_by_others

    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=123456789:" + "A" * 35 + "\n")
    log = logging.getLogger("test.startup")
    env.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="test.startup"):
        warn_if_readable_by_others(env, log)
        env.chmod(0o600)
        warn_if_readable_by_others(env, log)
        warn_if_readable_by_others(tmp_path / "missing.env", log)
    [warning] = caplog.records
    assert "readable by other users (mode 644)" in warning.getMessage() and "chmod 600" in warning.getMessage()
    assert "AAAA" not in warning.getMessage()
