"""Pure: the core's pages and replies as Discord embeds, attachments and views, within Discord's limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import discord

from chat import AlbumItem, Page, Reply
from chat.i18n import N_
from chat.replies import Button, Rows, is_web_link, shorten
from chat.uploads import upload_filename

ACTION_PREFIX = "fashionbot:"  # custom_id = prefix + the core's action (≤ 64 bytes): under Discord's 100
EMBEDS_MAX, BUTTONS_PER_ROW, ROWS_MAX = 10, 5, 5
TITLE_LIMIT, LABEL_LIMIT, CONTENT_LIMIT = 256, 80, 2000
IMAGE_LIMIT = 25 * 1024 * 1024  # what Discord lets bots download; bigger attachments are refused first
TOO_BIG = N_("That image is {size} MB; please send one under {limit} MB.")
NO_IMAGE = N_("Attach a photo of clothing or shoes (or use /similar) and I'll find similar products.")


@dataclass(frozen=True)
class Upload:
    """A local product image to attach: ``filename`` is what its embed points at (attachment://…)."""

    filename: str
    path: Path


def embeds(items: list[AlbumItem]) -> tuple[list[discord.Embed], list[Upload]]:
    """One embed per product (title, price, link, image); local images become attachments."""
    result, uploads = [], []
    for item in items[:EMBEDS_MAX]:
        product = item.product
        embed = discord.Embed(title=shorten(f"{item.number}. {product.title or product.id}", TITLE_LIMIT),
                              url=product.link if is_web_link(product.link) else None,
                              description=" · ".join(p for p in (product.price, product.brand) if p) or None)
        if product.image_is_remote:
            embed.set_image(url=product.image_link)
        else:
            upload = Upload(upload_filename(product), Path(product.image_link))
            uploads.append(upload)
            embed.set_image(url=f"attachment://{upload.filename}")
        result.append(embed)
    return result, uploads


def view(rows: Rows) -> discord.ui.View | None:
    """Link buttons open the product; action buttons come back as interactions with our custom_id."""
    laid = layout(rows)
    if not laid:
        return None
    buttons = discord.ui.View(timeout=None)
    for number, row in enumerate(laid):
        for button in row:
            label = shorten(button.label, LABEL_LIMIT)
            item: discord.ui.Button
            if button.url:
                item = discord.ui.Button(style=discord.ButtonStyle.link, label=label, url=button.url, row=number)
            else:
                item = discord.ui.Button(style=discord.ButtonStyle.primary if button.action == "more"
                                         else discord.ButtonStyle.secondary, label=label,
                                         custom_id=ACTION_PREFIX + (button.action or ""), row=number)
            buttons.add_item(item)
    return buttons


def layout(rows: Rows) -> Rows:
    """The core's rows in Discord's (5 of at most 5 buttons): the product links packed together, each row of
    actions (garments, More and Style, 👍 / 👎) on a row of its own when that fits; else every button in turn."""
    blocks: Rows = []
    for row in filter(None, rows):
        if blocks and _links(row) and _links(blocks[-1]):
            blocks[-1] = [*blocks[-1], *row]
        else:
            blocks.append(list(row))
    laid = [block[i:i + BUTTONS_PER_ROW] for block in blocks for i in range(0, len(block), BUTTONS_PER_ROW)]
    if len(laid) <= ROWS_MAX:
        return laid
    packed = [button for row in rows for button in row][:BUTTONS_PER_ROW * ROWS_MAX]
    return [packed[i:i + BUTTONS_PER_ROW] for i in range(0, len(packed), BUTTONS_PER_ROW)]


def _links(row: list[Button]) -> bool:
    return all(button.url for button in row)


def page_message(page: Page) -> tuple[str, list[discord.Embed], list[Upload], discord.ui.View | None]:
    """One reply for a page: the text, up to 10 embeds, their attachments, the buttons."""
    found, uploads = embeds(page.album)
    return shorten_content(page.reply.text), found, uploads, view(page.reply.buttons)


def reply_message(reply: Reply) -> tuple[str, discord.ui.View | None]:
    return shorten_content(reply.text), view(reply.buttons)


def action_of(custom_id: str | None) -> str | None:
    """The core's action for one of our buttons; None for anybody else's."""
    if custom_id and custom_id.startswith(ACTION_PREFIX):
        return custom_id.removeprefix(ACTION_PREFIX)
    return None


def shorten_content(text: str) -> str:
    return text if len(text) <= CONTENT_LIMIT else text[:CONTENT_LIMIT - 1] + "…"
