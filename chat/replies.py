"""Pure rendering decisions: products in, album items, captions (≤ 1024), buttons and texts out.

Platform-free: a :class:`Button` is a link or an action (what a press sends back to
:meth:`Conversation.press`); each adapter turns them into its own keyboards, embeds and views.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog.product import Product
from catalog.product import is_web_url as is_web_link
from index import Filters, SearchHit
from recommender import BuildProgress, BuildReport, Guess, Style

from .narrowing import describe, suggestions

CAPTION_LIMIT = 1024  # Telegram's caption limit; the stricter of the platforms'
TEXT_LIMIT = 4096
ACTION_LIMIT = 64  # bytes: Telegram's callback_data (Discord's custom_id allows 100)
LABEL_LIMIT = 48
MORE = "more"
STYLE = "style"
STYLE_PREFIX = "style:"

COMMANDS = [
    ("more", "Next matches for your last photo"),
    ("style", "What I recognised; narrow: /style women, red, formal, shoes"),
    ("help", "How to use this bot"),
]
HELP = (
    "Send me a photo of clothing or shoes — or an image file — and I'll find similar products in the "
    "catalog, with links.\n\n"
    "/more — the next matches for your last photo\n"
    "/style — what I recognised in it; narrow the results with /style women, /style red, "
    "/style formal or /style shoes; /style clear removes the filter\n"
    "/help — this message"
)
NO_PHOTO_YET = "Send me a photo first; /more then shows further matches for it."
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a moment."
NOT_ADMIN = "Sorry, only the bot's admins can rebuild the catalog."
REINDEX_USAGE = "Usage: /reindex — rebuild the catalog index; /reindex status — how the rebuild is going."
BURST_NOTE = "You sent several photos at once — I'm showing matches for the newest one only."
TAPS_TOO_FAST = "One tap at a time, please — I'm on it."


@dataclass(frozen=True)
class Button:
    """A link (``url``) or an action (``action``: sent back to ``Conversation.press`` when pressed)."""

    label: str
    url: str | None = None
    action: str | None = None


Rows = list[list[Button]]


@dataclass(frozen=True)
class Reply:
    """One text message, with rows of buttons under it."""

    text: str
    buttons: Rows = field(default_factory=list)


@dataclass(frozen=True)
class AlbumItem:
    product: Product
    number: int  # 1-based position in this photo's results
    caption: str  # ≤ CAPTION_LIMIT


@dataclass(frozen=True)
class Page:
    """A page of results: one album, then the links message with More and Style."""

    album: list[AlbumItem]
    reply: Reply
    number: int = 0  # the user's how-manieth page; adapters show a user's pages in this order (0: unordered)


def text_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts (an emoji can count twice); ≥ what Discord counts."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if text_len(text) <= limit:
        return text
    while text and text_len(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def caption(product: Product, number: int) -> str:
    """'3. Title' / 'price · brand' / link — the title gives way so the whole fits in 1024."""
    lines = [shorten(" · ".join(part for part in (product.price, product.brand) if part), 200)]
    if text_len(product.link) <= CAPTION_LIMIT // 2:  # a longer link only lives in its button
        lines.append(product.link)
    tail = "\n".join(line for line in lines if line)
    head = f"{number}. "
    room = CAPTION_LIMIT - text_len(head) - (text_len(tail) + 1 if tail else 0)
    return head + shorten(product.title or product.id, room) + ("\n" + tail if tail else "")


def album(hits: Sequence[SearchHit], first: int) -> list[AlbumItem]:
    return [AlbumItem(hit.product, number, caption(hit.product, number)) for number, hit in enumerate(hits, first)]


def product_label(product: Product, number: int) -> str:
    """A button's text, '7. Title… — 49.90 EUR', at most LABEL_LIMIT long."""
    head, price = f"{number}. ", f" — {shorten(product.price, 16)}" if product.price else ""
    return head + shorten(product.title or product.id, LABEL_LIMIT - text_len(head + price)) + price


def results_buttons(hits: Sequence[SearchHit], first: int, *, more: bool) -> Rows:
    """One link button per product with a web link (none fit on an album itself), then More and Style."""
    rows = [[Button(product_label(hit.product, number), url=hit.product.link)]
            for number, hit in enumerate(hits, first) if is_web_link(hit.product.link)]
    actions = [Button("More ▸", action=MORE)] if more else []
    rows.append([*actions, Button("Style", action=STYLE)])
    return rows


def results_text(first: int, count: int, filters: Filters, *, more: bool) -> str:
    span = f"{first}" if count == 1 else f"{first}–{first + count - 1}"
    text = f"Matches {span}{_filter_note(filters)}. Tap a product to open it."
    return text + (" More shows the next ones." if more else " That's all for this photo.")


def no_more_text(filters: Filters, *, first_page: bool) -> str:
    if first_page and filters:
        return f"Nothing in the catalog matches the filter {describe(filters)}; /style clear removes it."
    if first_page:
        return "The catalog has nothing to show for this photo yet."
    widen = f" with the filter {describe(filters)} — /style clear widens it" if filters else ""
    return f"No more matches for this photo{widen}. Send another photo to search again."


def style_text(style: Style | None, filters: Filters) -> str:
    lines = []
    if style is not None:
        lines.append("What I see in your last photo:")
        for name, guess in (("category", style.category), ("colour", style.colour),
                            ("gender", style.gender), ("usage", style.usage)):
            lines.append(f"• {name}: {_guess(guess)}")
    else:
        lines.append("Send me a photo and /style tells what I recognised in it.")
    lines.append(f"\nFilter: {describe(filters)}.")
    lines.append("Narrow with /style women, /style red, /style formal or /style shoes — or tap below. "
                 "/style clear removes the filter.")
    return "\n".join(lines)


def style_buttons(style: Style | None, filters: Filters) -> Rows:
    picks = suggestions(style, filters) if style is not None else []
    buttons = [Button(f"Only {shorten(label, 30)}", action=STYLE_PREFIX + narrowing)
               for label, narrowing in picks if len((STYLE_PREFIX + narrowing).encode()) <= ACTION_LIMIT]
    if filters:
        buttons.append(Button("Clear filter", action=STYLE_PREFIX + "clear"))
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def narrowed_text(filters: Filters, *, has_photo: bool) -> str:
    if not filters:
        return "Filter cleared: all products again." + (" /more continues." if has_photo else "")
    applies = "to /more and to your next photos" if has_photo else "to your next photos"
    return f"Filter: {describe(filters)}. It applies {applies}."


def more_buttons() -> Rows:
    return [[Button("More ▸", action=MORE)]]


def photos_too_fast(wait_s: float) -> str:
    return (f"That's a lot of photos in one minute — please wait {math.ceil(wait_s)} s, "
            "then send the one you want matched.")


def admin_too_fast(wait_s: float) -> str:
    return f"Too many admin commands in a row; try again in {math.ceil(wait_s)} s."


def progress_text(feed_name: str, progress: BuildProgress | None) -> str:
    head = f"Rebuilding the catalog index from {feed_name}…"
    if progress is None or not progress.total:
        return f"{head}\nstarting"
    percent = 100 * progress.done // progress.total
    return (f"{head}\n{percent}% ({progress.done}/{progress.total} images), "
            f"{progress.items_per_s:.1f} images/s")


def reindex_done_text(feed_name: str, report: BuildReport) -> str:
    return f"Catalog index rebuilt from {feed_name}: {report.summary()}. Now serving it."


def reindex_failed_text(feed_name: str, reason: str) -> str:
    return f"Rebuilding from {feed_name} failed: {reason}. The previous index keeps serving."


def reindex_busy_text(progress_line: str) -> str:
    return f"A rebuild is already running — only one at a time.\n{progress_line}"


def _filter_note(filters: Filters) -> str:
    return f" (filter: {describe(filters)})" if filters else ""


def _guess(guess: Guess | None) -> str:
    return f"{guess.value} ({guess.confidence:.0%})" if guess is not None else "not sure"
