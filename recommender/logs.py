"""Logging set-up for entry points: one format, noisy libraries quietened, tokens and secrets masked."""

from __future__ import annotations

import logging
import re

# A Telegram bot token: <digits>:<30+ url-safe chars>. It appears in Bot API URLs that httpx logs and
# in PTB's exception texts ("The token `…` was rejected by the server."), hence in tracebacks.
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
# A Discord bot token: base64 of the bot's id, a timestamp part and an HMAC, dot-separated.
DISCORD_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}")
_TRACEBACKS = logging.Formatter()
# Secrets with no recognisable shape (a webhook secret), masked wherever they appear; filled at start-up.
_LITERAL_SECRETS: set[str] = set()


def mask_value(secret: str) -> None:
    """From now on, mask this exact value in every log line (for secrets with no recognisable shape)."""
    if len(secret) >= 8:  # shorter values would mask ordinary words
        _LITERAL_SECRETS.add(secret)


def mask_secrets(text: str) -> str:
    text = DISCORD_TOKEN_PATTERN.sub("<token>", TOKEN_PATTERN.sub("<token>", text))
    for secret in _LITERAL_SECRETS:
        text = text.replace(secret, "<secret>")
    return text


class SecretMaskFilter(logging.Filter):
    """Masks bot tokens (Telegram, Discord) and registered secrets in a record's message, traceback and stack.

    The traceback is rendered here once, masked, and kept in ``exc_text``, which every formatter then
    uses instead of rendering the exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def setup_logging(level: int | str = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "timm", "PIL", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
