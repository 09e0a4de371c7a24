"""Logging set-up for entry points: one format, noisy libraries quietened, bot tokens masked."""

from __future__ import annotations

import logging
import re

# A Telegram bot token: <digits>:<35 url-safe chars>. It appears in Bot API URLs that httpx logs.
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")


class SecretMaskFilter(logging.Filter):
    """Replaces anything shaped like a bot token in a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _TOKEN.sub("<token>", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "timm", "PIL", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
