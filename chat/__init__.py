"""The platform-free conversation core that the Telegram and Discord adapters share: sessions, paging,
refinement in plain words, /style narrowing, ratings, the user's language, rebuild control, and what to show
as plain dataclasses (``replies``)."""

from .conversation import Conversation
from .errors import UserError
from .feedback import FeedbackStore, open_feedback
from .rebuilds import Board, Rebuilds
from .replies import AlbumItem, Button, Page, Reply
from .state import ExpiringLRU, Session, Sessions

__all__ = ["AlbumItem", "Board", "Button", "Conversation", "ExpiringLRU", "FeedbackStore", "Page", "Rebuilds",
           "Reply", "Session", "Sessions", "UserError", "open_feedback"]
