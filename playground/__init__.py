"""Try the bot without Telegram: a local Bot API server, a chat page in the browser, the real bot against it.

``fashionbot playground`` runs :func:`serve`; :mod:`.botapi` is the server (also the tests' emulator).
"""

from .runner import serve

__all__ = ["serve"]
