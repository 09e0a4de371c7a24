"""The Telegram front door: a photo in, an album of similar catalog products with links out.

``python -m bot`` runs it; :func:`build_application` is where its handlers are registered.
"""

from .app import build_application, run
from .settings import BotSettings

__all__ = ["BotSettings", "build_application", "run"]
