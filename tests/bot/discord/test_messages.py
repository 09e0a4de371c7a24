"""The core's pages and replies as Discord embeds and views: pure, within Discord's limits, from tables."""

from __future__ import annotations

import discord
import pytest

from bot.discord import messages
from catalog import Product
from chat import replies as core
from chat.i18n import language
from chat.replies import Button, Page, Reply
from chat.uploads import is_image_document
from index import SearchHit

EN = language("en")


def product(i: int, **fields: str) -> Product:
    base = {"id": f"p/{i}", "title": f"Sneaker {i}", "link": f"https://shop.example.com/p/{i}",
            "image_link": f"/catalog/p{i}.jpg", "price": "49.90 EUR", "brand": "Acme"}
    return Product(**{**base, **fields})


def page(*products: Product, more: bool = True) -> Page:
    hits = [SearchHit(p, 0.9, rank) for rank, p in enumerate(products)]
    return Page(core.album(hits, 1), Reply(core.results_text(EN, 1, len(hits), core.Filters(), more=more),
                                           core.results_buttons(EN, hits, 1, more=more)))


async def test_a_page_is_one_message_with_an_embed_per_product_and_link_buttons_then_more() -> None:
    remote = product(2, image_link="https://cdn.example.com/2.jpg", title="T" * 400)
    content, embeds, uploads, view = messages.page_message(page(product(1), remote, product(3, link="ftp://x/3")))
    assert content.startswith("Matches 1–3.")
    assert [e.title for e in embeds][0] == "1. Sneaker 1" and len(embeds[1].title) <= messages.TITLE_LIMIT
    assert [e.url for e in embeds] == ["https://shop.example.com/p/1", "https://shop.example.com/p/2", None]
    assert [e.image.url for e in embeds] == ["attachment://p_1.jpg", "https://cdn.example.com/2.jpg",
                                             "attachment://p_3.jpg"]
    assert embeds[0].description == "49.90 EUR · Acme"
    assert [(u.filename, str(u.path)) for u in uploads] == [("p_1.jpg", "/catalog/p1.jpg"),
                                                             ("p_3.jpg", "/catalog/p3.jpg")]
    links = [item for item in view.children if item.style is discord.ButtonStyle.link]
    actions = [item.custom_id for item in view.children if item.style is not discord.ButtonStyle.link]
    assert [item.url for item in links] == ["https://shop.example.com/p/1", "https://shop.example.com/p/2"]
    assert actions == ["fashionbot:more", "fashionbot:style"]
    assert all(len(item.label) <= messages.LABEL_LIMIT for item in view.children)


async def test_ten_products_fit_one_message_and_twelve_buttons_fit_discords_rows() -> None:
    _, embeds, _, view = messages.page_message(page(*(product(i) for i in range(10))))
    assert len(embeds) == 10 and len(view.children) == 12
    assert max(item.row for item in view.children) < messages.ROWS_MAX


@pytest.mark.parametrize(("reply", "buttons"), [
    (Reply("Filter: red."), None),
    (Reply("Filter: red.", core.more_buttons(EN)), ["fashionbot:more"]),
    (Reply("x" * 5000, [[Button("Only " + "y" * 100, action="style:color=red")]]), ["fashionbot:style:color=red"]),
])
async def test_replies(reply: Reply, buttons: list[str] | None) -> None:
    content, view = messages.reply_message(reply)
    assert len(content) <= messages.CONTENT_LIMIT
    assert (None if view is None else [item.custom_id for item in view.children]) == buttons


@pytest.mark.parametrize(("custom_id", "action"), [
    ("fashionbot:more", "more"), ("fashionbot:style:clear", "style:clear"), ("other-bot:more", None), (None, None),
])
def test_action_of(custom_id: str | None, action: str | None) -> None:
    assert messages.action_of(custom_id) == action


@pytest.mark.parametrize(("content_type", "filename", "expected"), [
    ("image/jpeg", "x.bin", True), ("image/webp", "x", True), ("application/pdf", "x.jpg", False),
    (None, "look.PNG", True), (None, "notes.txt", False), ("application/octet-stream", "photo.jpg", True),
])
def test_attachments_are_judged_as_telegram_documents_are(content_type: str | None, filename: str,
                                                          expected: bool) -> None:
    assert is_image_document(content_type, filename) is expected
