"""Texts and buttons of the conversation beyond results: refinements in words, the nearest relaxation, ratings,
the welcome with example photos, and shared links. Pure, in the user's language."""

from __future__ import annotations

from pathlib import Path

from catalog.product import Product
from index import Filters

from .describe import describe
from .i18n import Language
from .replies import EXAMPLE_PREFIX, RELAX, START_OVER, AlbumItem, Button, Rows, shorten

EXAMPLES_PER_ROW = 2
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def not_understood(lang: Language, unknown: tuple[str, ...]) -> str:
    heard = lang._("I didn't understand “{words}”. ", words=shorten(" ".join(unknown), 60)) if unknown else ""
    return heard + lang._("Send a photo, then tell me what to change, for example: “in red”, “for women”, "
                          "“cheaper”, “under 2000”, “formal”, “no sandals”, “sneakers only”, “sort by price” or "
                          "“start over”.")


def unknown_note(lang: Language, unknown: tuple[str, ...]) -> str:
    return lang._(" (I didn't understand: {words})", words=shorten(" ".join(unknown), 60)) if unknown else ""


def refined_before_photo(lang: Language, filters: Filters, sort: str) -> str:
    if not filters and sort != "price":
        return lang._("All refinements cleared. Send me a photo to search.")
    return lang._("Noted: {filters}. Now send me a photo and I'll search with it.",
                  filters=describe(lang, filters, sort))


def nothing_cheaper(lang: Language, *, shown: bool, priced: bool) -> str:
    """Why "cheaper" cannot be done: no results shown yet (before a photo, or in its caption), none of those
    shown has a price, or none has a lower one."""
    if not shown:
        return lang._("“Cheaper” goes below the prices of the results I've shown, so ask for it once you've seen "
                      "some.")
    if not priced:
        return lang._("None of the products shown has a price, so I can't go cheaper.")
    return lang._("I can't go cheaper: none of the products shown has a lower price. "
                  "Try “under …” with an amount, or “sort by price”.")


def unmet_first(unmet: str, text: str) -> str:
    """What could not be done, on its own line before what was (``text``: a header or a whole reply)."""
    return f"{unmet}\n{text}" if unmet else text


def nothing_matches(lang: Language, filters: Filters, sort: str, nearest: Filters | None) -> str:
    text = lang._("Nothing among the matches for your photo is {filters}.", filters=describe(lang, filters, sort))
    if nearest is None:
        return text + lang._(" “start over” removes every refinement.")
    if not nearest:
        return text + lang._(" Without it, there are matches.")
    return text + lang._(" The nearest I have: {filters}.", filters=describe(lang, nearest, sort))


def relax_buttons(lang: Language, nearest: Filters | None) -> Rows:
    rows = [[Button(lang._("Show the nearest"), action=RELAX)]] if nearest is not None else []
    return [*rows, [Button(lang._("Start over"), action=START_OVER)]]


def rated(lang: Language, *, liked: bool, kept: bool) -> str:
    if not kept:
        return lang._("You already rated this page — thank you!")
    if liked:
        return lang._("Thanks! Glad these fit.")
    return lang._("Thanks — noted. Tell me what to change: “in red”, “cheaper”, “no sandals”… or send another photo.")


def too_old_to_rate(lang: Language) -> str:
    return lang._("That page is too old to rate; rate one of the latest.")


def nothing_close(lang: Language) -> str:
    return lang._("I couldn't find anything close to this in the catalog. These are only the nearest items, in case "
                  "one helps:") + "\n"


def shared_product(lang: Language) -> str:
    return lang._("The product you opened comes first, then products like it:") + "\n"


def shared_collection(lang: Language, name: str) -> str:
    return lang._("The “{name}” collection:", name=name) + "\n"


def not_shared(lang: Language) -> str:
    return lang._("That link points to something the shop no longer has. Send me a photo to search instead.")


def examples(directory: Path | None) -> list[Path]:
    """The example photos a new user may tap (the playground shows the same ones)."""
    if directory is None or not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)


def example_label(path: Path) -> str:
    """'casual-shoes-2831.jpg' → 'casual shoes'."""
    stem = path.stem.rsplit("-", 1)[0] if path.stem.rsplit("-", 1)[-1].isdigit() else path.stem
    return stem.replace("-", " ").replace("_", " ")


def example_album(paths: list[Path]) -> list[AlbumItem]:
    """The example photos as an album, numbered as their buttons are. They are no catalog products: a Product
    here is only what an album item is made of (an image and a caption)."""
    return [AlbumItem(Product(id=f"example-{path.stem}", title=example_label(path), link="", image_link=str(path)),
                      number, f"{number}. {example_label(path)}")
            for number, path in enumerate(paths, 1)]


def example_buttons(paths: list[Path]) -> Rows:
    buttons = [Button(f"📷 {number}. {example_label(path)}", action=EXAMPLE_PREFIX + path.name)
               for number, path in enumerate(paths, 1) if len((EXAMPLE_PREFIX + path.name).encode()) <= 64]
    return [buttons[i:i + EXAMPLES_PER_ROW] for i in range(0, len(buttons), EXAMPLES_PER_ROW)]
