"""Pure rendering decisions: products in, album items, captions (≤ 1024), buttons and texts out.

Platform-free: a :class:`Button` is a link or an action (what a press sends back to
:meth:`Conversation.press`); each adapter turns them into its own keyboards, embeds and views. Every text a
user reads is in their :class:`~chat.i18n.Language` (admins' /reindex texts stay English).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog.product import Product
from catalog.product import is_web_url as is_web_link
from engine import ImageDecodeError, ImageProblem
from index import Filters, SearchHit
from recommender import BuildProgress, BuildReport, Guess, Style

from .describe import describe
from .i18n import N_, NP_, Language
from .narrowing import suggestions

CAPTION_LIMIT = 1024  # Telegram's caption limit; the stricter of the platforms'
ACTION_LIMIT = 64  # bytes: Telegram's callback_data (Discord's custom_id allows 100)
LABEL_LIMIT = 48
MORE = "more"
STYLE = "style"
STYLE_PREFIX = "style:"
RATE_PREFIX = "rate:"  # rate:up:<page> / rate:down:<page>
EXAMPLE_PREFIX = "example:"
RELAX = "relax"
START_OVER = "start-over"
REGION_PREFIX = "region:"  # region:<name>: show that garment of the last photo
CURRENT_REGION = "✓ "  # marks the garment shown
REGIONS = {  # recommender.protocol.REGION_NAMES: the glyph, and the word in the user's language
    "top": ("👕", NP_("garment in a photo", "Top")),
    "bottom": ("👖", NP_("garment in a photo", "Bottom")),
    "full": ("👗", NP_("garment in a photo: a dress, a jumpsuit", "One-piece")),
    "shoes": ("👟", NP_("garment in a photo", "Shoes")),
    "bag": ("👜", NP_("garment in a photo", "Bag")),
    "whole": ("📷", NP_("garment in a photo: all of it", "Whole photo")),
}

COMMANDS = [
    ("start", N_("Start: what I do, with example photos")),
    ("more", N_("Next matches for your last photo")),
    ("style", N_("What I recognised; narrow: /style women, red, formal, shoes")),
    ("help", N_("How to use this bot")),
]
HELP = N_(
    "Send me a photo of clothing or shoes — or an image file — and I'll find similar products in the "
    "catalog, with links.\n\n"
    "Then say what to change, in plain words: “in red”, “for women”, “cheaper”, “under 2000”, “formal”, "
    "“no sandals”, “sneakers only”, “sort by price”; “start over” clears it all.\n\n"
    "/more — the next matches for your last photo\n"
    "/style — what I recognised in it, with buttons to narrow\n"
    "/help — this message"
)
WELCOME = N_("Send me a photo of clothing or shoes and I'll find similar products, with links.\n"
             "Then tell me what to change: “in red”, “under 2000”, “no sandals”. Or tap an example:")
NO_PHOTO_YET = N_("Send me a photo first; /more then shows further matches for it.")
PHOTO_OUTDATED = N_("I was updated since your last photo, so I can't show more matches for it. "
                    "Please send the photo again.")
SOMETHING_WENT_WRONG = N_("Sorry, something went wrong on my side. Please try again in a moment.")
NOT_ADMIN = "Sorry, only the bot's admins can rebuild the catalog."
REINDEX_USAGE = "Usage: /reindex — rebuild the catalog index; /reindex status — how the rebuild is going."
BURST_NOTE = N_("You sent several photos at once — I'm showing matches for the newest one only.")
TAPS_TOO_FAST = N_("One tap at a time, please — I'm on it.")
REGION_GONE = N_("That button belongs to an earlier photo. Send that photo again to choose among its garments.")
# One reply per kind of image the engine cannot use (engine.ImageProblem), never its English detail.
IMAGE_PROBLEMS = {
    ImageProblem.EMPTY: N_("The file is empty."),
    # Big JPEGs are read at a reduced scale (a 200 MP photo too): this is a PNG, GIF … that big, or a progressive
    # JPEG, so "send a JPEG" would not help.
    ImageProblem.TOO_LARGE: N_("That image has too many pixels for me to read. Please send a smaller version of "
                               "it — a screenshot of it works too."),
    ImageProblem.NOT_IMAGE: N_("That file is not an image I can read (JPEG, PNG, WebP, GIF…)."),
    ImageProblem.DAMAGED: N_("The image is damaged or incomplete; please send it again."),
}


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


def results_buttons(lang: Language, hits: Sequence[SearchHit], first: int, *, more: bool,
                    page: int | None = None, regions: Sequence[Button] = ()) -> Rows:
    """One link button per product with a web link (none fit on an album itself), then the garments of the photo
    to switch to (``regions``), More and Style, then 👍 / 👎 for rating the page (``page``: its number)."""
    rows = [[Button(product_label(hit.product, number), url=hit.product.link)]
            for number, hit in enumerate(hits, first) if is_web_link(hit.product.link)]
    if regions:
        rows.append(list(regions))
    actions = [Button(lang._("More ▸"), action=MORE)] if more else []
    rows.append([*actions, Button(lang._("Style"), action=STYLE)])
    if page is not None:
        rows.append([Button("👍", action=f"{RATE_PREFIX}up:{page}"), Button("👎", action=f"{RATE_PREFIX}down:{page}")])
    return rows


def region_label(lang: Language, name: str) -> str:
    """'👟 Shoes' in the user's language; an unknown name as it is."""
    if name not in REGIONS:
        return name
    glyph, (context, word) = REGIONS[name]
    return f"{glyph} {lang.p_(context, word)}"


def region_buttons(lang: Language, names: Sequence[str], shown: str) -> list[Button]:
    """'✓ 👕 Top · 👖 Bottom · 👟 Shoes': one button per garment of the photo, the shown one marked; none for a
    photo of one garment or none."""
    if len(names) < 2:
        return []
    return [Button((CURRENT_REGION if name == shown else "") + region_label(lang, name), action=REGION_PREFIX + name)
            for name in names]


def region_heading(lang: Language, name: str) -> str:
    """What starts a text about one garment of a photo ('👟 Shoes — '); nothing for a photo searched whole."""
    return f"{region_label(lang, name)} — " if name else ""


def results_text(lang: Language, first: int, count: int, filters: Filters, *, more: bool,
                 sort: str | None = None) -> str:
    span = f"{first}" if count == 1 else f"{first}–{first + count - 1}"
    note = lang._(" (filter: {filters})", filters=describe(lang, filters, sort)) if filters or sort == "price" else ""
    text = lang._("Matches {span}{note}. Tap a product to open it.", span=span, note=note)
    return text + (lang._(" More shows the next ones.") if more else lang._(" That's all for this photo."))


def no_more_text(lang: Language, filters: Filters, *, first_page: bool) -> str:
    if first_page and filters:
        return lang._("Nothing in the catalog matches the filter {filters}; “start over” removes it.",
                      filters=describe(lang, filters))
    if first_page:
        return lang._("The catalog has nothing to show for this photo yet.")
    if filters:
        return lang._("No more matches for this photo with the filter {filters} — “start over” widens it. "
                      "Send another photo to search again.", filters=describe(lang, filters))
    return lang._("No more matches for this photo. Send another photo to search again.")


def style_text(lang: Language, style: Style | None, filters: Filters, region: str = "") -> str:
    """What was recognised in the last photo; in ``region`` (a garment's name) of it, when it showed several."""
    lines = []
    if style is not None:
        lines.append(lang._("What I see in your last photo — {region}:", region=region_label(lang, region)) if region
                     else lang._("What I see in your last photo:"))
        for name, guess in ((lang._("category"), style.category), (lang._("colour"), style.colour),
                            (lang._("gender"), style.gender), (lang._("usage"), style.usage)):
            lines.append(f"• {name}: {_guess(lang, guess)}")
    else:
        lines.append(lang._("Send me a photo and /style tells what I recognised in it."))
    lines.append("\n" + lang._("Filter: {filters}.", filters=describe(lang, filters)))
    lines.append(lang._("Narrow with /style women, /style red, /style formal or /style shoes — or tap below. "
                        "/style clear removes the filter."))
    return "\n".join(lines)


def style_buttons(lang: Language, style: Style | None, filters: Filters) -> Rows:
    picks = suggestions(style, filters) if style is not None else []
    buttons = [Button(lang._("Only {label}", label=shorten(label, 30)), action=STYLE_PREFIX + narrowing)
               for label, narrowing in picks if len((STYLE_PREFIX + narrowing).encode()) <= ACTION_LIMIT]
    if filters:
        buttons.append(Button(lang._("Clear filter"), action=STYLE_PREFIX + "clear"))
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def narrowed_text(lang: Language, filters: Filters, *, has_photo: bool) -> str:
    if not filters:
        return lang._("Filter cleared: all products again.") + (lang._(" /more continues.") if has_photo else "")
    if has_photo:
        return lang._("Filter: {filters}. It applies to /more and to your next photos.",
                      filters=describe(lang, filters))
    return lang._("Filter: {filters}. It applies to your next photos.", filters=describe(lang, filters))


def more_buttons(lang: Language) -> Rows:
    return [[Button(lang._("More ▸"), action=MORE)]]


def photos_too_fast(lang: Language, wait_s: float) -> str:
    return lang._("That's a lot of photos in one minute — please wait {seconds} s, then send the one you want "
                  "matched.", seconds=math.ceil(wait_s))


def image_problem(lang: Language, error: ImageDecodeError) -> str:
    """Why an image is unusable, in the user's language: by the error's kind, whatever its English detail."""
    return lang._(IMAGE_PROBLEMS[error.kind])


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


def _guess(lang: Language, guess: Guess | None) -> str:
    return f"{guess.value} ({guess.confidence:.0%})" if guess is not None else lang._("not sure")
