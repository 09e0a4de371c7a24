"""Discord events onto the conversation core: what to search with, where to answer, errors told once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from chat import Conversation, Page, Reply, UserError
from chat.i18n import Language, language
from chat.replies import SOMETHING_WENT_WRONG
from chat.uploads import is_image_document, not_an_image

from . import messages

log = logging.getLogger(__name__)

Send = Callable[..., Awaitable[Any]]  # channel.send / followup.send with content, embeds, files, view


def pick_image(attachments: Sequence[discord.Attachment], lang: Language) -> discord.Attachment:
    """The first image attachment; a UserError naming what was sent instead, or saying it is too big."""
    images = [a for a in attachments if is_image_document(a.content_type, a.filename)]
    if not images:
        if attachments:
            raise UserError(not_an_image(lang, attachments[0].content_type, attachments[0].filename))
        raise UserError(lang._(messages.NO_IMAGE))
    if images[0].size > messages.IMAGE_LIMIT:
        raise UserError(lang._(messages.TOO_BIG, size=f"{images[0].size / 2**20:.1f}",
                               limit=messages.IMAGE_LIMIT // 2**20))
    return images[0]


def addressed(me: discord.abc.User | None, message: discord.Message) -> bool:
    """A DM, or a message that mentions the bot; never a bot's own message."""
    if message.author.bot or me is None:
        return False
    return message.guild is None or me.mentioned_in(message)


async def show(send: Send, outcome: Page | Reply | None) -> None:
    """A page as one reply with its embeds, attachments and buttons; a reply as one message."""
    if outcome is None:
        return
    if isinstance(outcome, Page):
        content, embeds, uploads, view = messages.page_message(outcome)
        files = await asyncio.to_thread(_files, uploads)
        kwargs: dict[str, Any] = {"content": content, "embeds": embeds, "files": files}
    else:
        content, view = messages.reply_message(outcome)
        kwargs = {"content": content}
    if view is not None:
        kwargs["view"] = view
    await send(**kwargs)


async def guarded(send: Send, work: Awaitable[Page | Reply | None], what: str, lang: Language | None = None) -> None:
    """Run ``work`` and show it; a refusal or bad image is told, anything else logged once and apologised for
    (in ``lang``; English without one)."""
    try:
        await show(send, await work)
    except UserError as error:
        log.info("%s: told the user: %s", what, error)
        await _tell(send, str(error))
    except discord.Forbidden as error:
        log.warning("%s: not allowed to answer (%s)", what, error)
    except Exception as error:
        log.error("%s failed", what, exc_info=error)
        await _tell(send, (lang or language(None))._(SOMETHING_WENT_WRONG))


async def search(conversation: Conversation, user_id: int, attachments: Sequence[discord.Attachment],
                 words: str = "", language: str | None = None) -> Page | Reply | None:
    """An image to search with (its message's words refine it); words alone refine the last results."""
    if words and not attachments:
        return await conversation.text(user_id, words, language=language)
    image = pick_image(attachments, await conversation.language(user_id, language))
    # read only once it is this photo's turn
    return await conversation.photo(user_id, image.read, language=language, words=words)


def words_of(me: discord.abc.User | None, message: discord.Message) -> str:
    """What a message says, without the mention that addressed the bot."""
    text = message.content or ""
    if me is not None:
        text = text.replace(f"<@{me.id}>", " ").replace(f"<@!{me.id}>", " ")
    return text.strip()


def is_admin(user: discord.abc.User, admin_ids: frozenset[int], admin_role: str | None) -> bool:
    if user.id in admin_ids:
        return True
    roles = getattr(user, "roles", ())
    return bool(admin_role) and any(admin_role in (role.name, str(role.id)) for role in roles)


class InteractionBoard:
    """Where a /reindex shows progress: the command's reply, edited as it goes."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.message: discord.Message | None = None

    async def post(self, text: str) -> None:
        self.message = await self.interaction.followup.send(text, wait=True)

    async def edit(self, text: str) -> None:
        if self.message is None:
            return
        try:
            await self.message.edit(content=text)
        except discord.HTTPException as error:  # deleted, or the interaction's 15 minutes are over
            log.info("could not update the reindex message: %s", error)


async def _tell(send: Send, text: str) -> None:
    try:
        await send(content=text)
    except discord.HTTPException as failure:
        log.warning("could not tell the user what went wrong: %s", failure)


def _files(uploads: list[messages.Upload]) -> list[discord.File]:
    files = []
    for upload in uploads:
        try:
            files.append(discord.File(upload.path, filename=upload.filename))
        except OSError as error:
            log.warning("image %s unreadable, left out: %s", upload.path, error)
    return files
