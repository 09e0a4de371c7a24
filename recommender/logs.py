"""Logging set-up for entry points: one format, noisy libraries quietened, bot tokens masked."""

from __future__ import annotations

import logging
import re

# A Telegram bot token: <digits>:<30+ url-safe chars>. It appears in Bot API URLs that httpx logs and
# in PTB's exception texts ("The token `…` was rejected by the server."), hence in tracebacks.
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
_TRACEBACKS = logging.Formatter()


def mask_secrets(text: str) -> str:
    return TOKEN_PATTERN.sub("<token>", text)


class SecretMaskFilter(logging.Filter):
    """Masks anything shaped like a bot token in a record's message, traceback and stack text.

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
