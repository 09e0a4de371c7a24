"""The platform-free conversation core that the Telegram and Discord adapters share: sessions, paging,
/style narrowing, rebuild control, and what to show as plain dataclasses (``replies``)."""

from .conversation import Conversation
from .errors import UserError
from .rebuilds import Board, Rebuilds
from .replies import AlbumItem, Button, Page, Reply
from .state import ExpiringLRU, Session, Sessions

__all__ = ["AlbumItem", "Board", "Button", "Conversation", "ExpiringLRU", "Page", "Rebuilds", "Reply",
           "Session", "Sessions", "UserError"]
