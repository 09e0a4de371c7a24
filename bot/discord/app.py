"""FashionBot: the Discord client, where its events and slash commands are registered; run() serves it."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

import discord
from discord import app_commands

from chat import Conversation, Rebuilds, Sessions
from chat.i18n import Language, language
from chat.stores import Stores
from recommender import CatalogRecommender, Recommender, RecommenderSettings

from . import handlers, messages
from .backends import open_backends
from .settings import DiscordSettings

log = logging.getLogger(__name__)
Opener = Callable[[RecommenderSettings], Awaitable[Recommender]]


class FashionBot(discord.Client):
    """Images in DMs or with the bot mentioned, /similar, /more, /style, /reindex and the result buttons."""

    # Built whole by setup_hook, which discord.py runs before any event or interaction is dispatched.
    conversation: Conversation
    rebuilds: Rebuilds
    backends: Stores

    def __init__(self, settings: DiscordSettings, recommender_settings: RecommenderSettings, *,
                 open_recommender: Opener = CatalogRecommender.open) -> None:
        super().__init__(intents=discord.Intents.default())  # mentions and DMs carry attachments without more
        self.settings, self.recommender_settings, self._open = settings, recommender_settings, open_recommender
        self._recommender: Recommender | None = None
        self.tree = app_commands.CommandTree(self)
        self._register()

    async def setup_hook(self) -> None:
        """Before connecting: sessions, limits and ratings (SQLite, or Redis with FASHIONBOT_REDIS_URL), the model
        and index (off the loop); then sync the slash commands."""
        settings = self.settings
        self.backends = backends = await open_backends(settings, self.recommender_settings)  # before the model
        try:
            self._recommender = recommender = await self._open(self.recommender_settings)
        except BaseException:
            await backends.aclose()
            raise
        sessions = Sessions(settings.state_max_users, settings.state_ttl_s, limits=settings.limits(),
                            store=backends.sessions, rates=backends.rates, fingerprint=recommender.fingerprint)
        self.conversation = Conversation(recommender, sessions, album_size=settings.album_size,
                                         max_results=settings.max_results, feedback=backends.feedback)
        self.rebuilds = Rebuilds(recommender, self.recommender_settings.catalog, settings.progress_interval_s,
                                 commands_per_minute=settings.admin_commands_per_minute, rates=backends.rates)
        guild = discord.Object(self.settings.guild_id) if self.settings.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def close(self) -> None:
        if self._recommender is not None:
            self.rebuilds.cancel()
        await super().close()
        if self._recommender is not None:
            await self._recommender.aclose()
            await self.backends.aclose()  # sessions, ratings, the Redis client
            self._recommender = None

    async def on_ready(self) -> None:
        log.info("serving as %s in %d server(s); %d admin(s)", self.user, len(self.guilds),
                 len(self.settings.admin_ids))

    async def on_message(self, message: discord.Message) -> None:
        """An image, or words that refine the last results, in a DM or with the bot mentioned."""
        if not handlers.addressed(self.user, message):
            return
        user_id, words = message.author.id, handlers.words_of(self.user, message)
        async with message.channel.typing():
            lang = await self.conversation.language(user_id)  # a message carries no locale: the one remembered
            await handlers.guarded(message.reply, handlers.search(self.conversation, user_id, message.attachments,
                                                                  words), f"message {message.id}", lang)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Our result buttons (More, Style, narrowings, 👍/👎); slash commands go through the tree."""
        data = cast(dict[str, Any], interaction.data or {})  # a component's data carries its custom_id
        action = messages.action_of(data.get("custom_id"))
        if interaction.type is not discord.InteractionType.component or action is None:
            return
        await interaction.response.defer(thinking=True)
        user_id, code = interaction.user.id, str(interaction.locale)
        await handlers.guarded(interaction.followup.send, self.conversation.press(user_id, action, language=code),
                               f"button {action}", language(code))

    @staticmethod
    def _language(interaction: discord.Interaction) -> tuple[str, Language]:
        """The user's Discord locale and its language; the conversation remembers it for their messages."""
        code = str(interaction.locale)
        return code, language(code)

    def _register(self) -> None:
        tree = self.tree

        @tree.command(description="Find products similar to an image")
        async def similar(interaction: discord.Interaction, image: discord.Attachment) -> None:
            await interaction.response.defer(thinking=True)
            code, lang = self._language(interaction)
            await handlers.guarded(interaction.followup.send, handlers.search(self.conversation, interaction.user.id,
                                                                              [image], language=code), "/similar", lang)

        @tree.command(description="Next matches for your last photo")
        async def more(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            code, lang = self._language(interaction)
            await handlers.guarded(interaction.followup.send,
                                   self.conversation.more(interaction.user.id, language=code), "/more", lang)

        @tree.command(description="What I recognised; narrow: women, red, formal, shoes, clear")
        async def style(interaction: discord.Interaction, words: str = "") -> None:
            await interaction.response.defer(thinking=True)
            code, lang = self._language(interaction)
            await handlers.guarded(interaction.followup.send,
                                   self.conversation.style(interaction.user.id, words, language=code), "/style", lang)

        @tree.command(description="Admins: rebuild the catalog index, or see how the rebuild is going")
        async def reindex(interaction: discord.Interaction, action: Literal["start", "status"] = "start") -> None:
            await interaction.response.defer(thinking=True)
            allowed = handlers.is_admin(interaction.user, self.settings.admin_ids, self.settings.admin_role)
            await self.rebuilds.command(handlers.InteractionBoard(interaction),
                                        user_id=interaction.user.id, allowed=allowed,
                                        args=[] if action == "start" else [action])


async def serve(client: FashionBot, token: str) -> None:
    """Until SIGINT or SIGTERM; then a clean close (the gateway, the HTTP session, the recommender)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    async with client:
        runner = asyncio.create_task(client.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("stop signal received: shutting down")
        stopper.cancel()
        await client.close()
        if runner in done:
            runner.result()  # a login or gateway failure surfaces here
        else:
            await asyncio.gather(runner, return_exceptions=True)
