"""The Discord adapter offline: real discord.py Attachments and Views, the core with a fake Recommender."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.discord import DiscordSettings, FashionBot, handlers
from chat import Conversation, Sessions, UserError
from chat.i18n import language
from recommender import RecommenderSettings
from tests.auxil.fakes import FakeRecommender, jpeg, make_catalog

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


class Cdn:
    """Stands in for discord.py's HTTP client: attachment URLs → bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def get_from_cdn(self, url: str) -> bytes:
        return self.files[url]


def attachment(name: str, data: bytes, content_type: str | None, *, size: int | None = None,
               cdn: Cdn | None = None) -> discord.Attachment:
    url = f"https://cdn.discordapp.com/attachments/1/2/{name}"
    if cdn is not None:
        cdn.files[url] = data
    payload = {"id": "1" + str(abs(hash(name)) % 10**12), "filename": name, "size": size or len(data), "url": url,
               "proxy_url": url}
    if content_type:
        payload["content_type"] = content_type
    return discord.Attachment(data=payload, state=SimpleNamespace(http=cdn or Cdn({})))


class Sent:
    """A send callable (channel.send, followup.send) that records what the bot sent."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def conversation(tmp_path: Path) -> Conversation:
    return Conversation(FakeRecommender(make_catalog(tmp_path / "catalog")), Sessions(10), album_size=6,
                        max_results=12)


@pytest.mark.parametrize(("attachments", "reply"), [
    ([], "Attach a photo"),
    ([("report.pdf", "application/pdf", None)], "That file isn't an image (application/pdf)"),
    ([("huge.jpg", "image/jpeg", 30 * 2**20)], "That image is 30.0 MB; please send one under 25 MB."),
])
def test_pick_image_refuses_with_a_clear_reply(attachments: list, reply: str) -> None:
    found = [attachment(name, b"x", kind, size=size) for name, kind, size in attachments]
    with pytest.raises(UserError, match="^" + reply.replace("(", r"\(").replace(")", r"\)")):
        handlers.pick_image(found, language("en"))


def test_pick_image_takes_the_first_image_among_other_files() -> None:
    files = [attachment("notes.txt", b"x", "text/plain"), attachment("look.jpg", b"x", "image/jpeg")]
    assert handlers.pick_image(files, language("en")).filename == "look.jpg"


async def test_an_image_gets_one_reply_with_embeds_files_and_buttons_and_more_pages_on(
        conversation: Conversation) -> None:
    cdn, sent = Cdn({}), Sent()
    image = attachment("look.jpg", jpeg("red"), "image/jpeg", cdn=cdn)
    await handlers.guarded(sent, handlers.search(conversation, 42, [image]), "test")
    [reply] = sent.calls
    assert reply["content"].startswith("Matches 1–6.") and len(reply["embeds"]) == 6
    assert len(reply["files"]) + sum(e.image.url.startswith("https://") for e in reply["embeds"]) == 6
    assert {f.filename for f in reply["files"]} == {e.image.url.removeprefix("attachment://")
                                                    for e in reply["embeds"] if e.image.url.startswith("attach")}
    more = [item.custom_id for item in reply["view"].children if item.style is not discord.ButtonStyle.link]
    assert more == ["fashionbot:more", "fashionbot:style"]

    await handlers.guarded(sent, conversation.press(42, "more"), "test")
    assert sent.calls[1]["content"].startswith("Matches 7–12.") and "view" in sent.calls[1]
    titles = [{e.title.split(". ", 1)[1] for e in call["embeds"]} for call in sent.calls]
    assert titles[0].isdisjoint(titles[1])
    await handlers.guarded(sent, conversation.more(42), "test")
    assert sent.calls[2] == {"content": "No more matches for this photo. Send another photo to search again."}


async def test_bad_images_and_failures_are_told_once(conversation: Conversation,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    cdn, sent = Cdn({}), Sent()
    await handlers.guarded(sent, handlers.search(conversation, 7, [attachment("x.jpg", b"nope", "image/jpeg",
                                                                             cdn=cdn)]), "test")
    await handlers.guarded(sent, conversation.more(8), "test")
    conversation.recommender.fail_search = RuntimeError("index gone")
    await handlers.guarded(sent, handlers.search(conversation, 7, [attachment("y.jpg", jpeg("blue"), "image/jpeg",
                                                                             cdn=cdn)]), "test")
    texts = [call["content"] for call in sent.calls]
    assert "image" in texts[0].lower() and texts[1].startswith("Send me a photo first")
    assert texts[2] == "Sorry, something went wrong on my side. Please try again in a moment."
    assert any(r.exc_info for r in caplog.records if r.name == "bot.discord.handlers")


@pytest.mark.parametrize(("user", "expected"), [
    (SimpleNamespace(id=500), True),
    (SimpleNamespace(id=1, roles=[SimpleNamespace(name="shop-admin", id=9)]), True),
    (SimpleNamespace(id=1, roles=[SimpleNamespace(name="member", id=9)]), False),
    (SimpleNamespace(id=1), False),
])
def test_admins_by_id_or_role(user: SimpleNamespace, expected: bool) -> None:
    assert handlers.is_admin(user, frozenset({500}), "shop-admin") is expected


def test_who_is_addressed() -> None:
    me = SimpleNamespace(mentioned_in=lambda message: message.mentions_me)
    dm = SimpleNamespace(author=SimpleNamespace(bot=False), guild=None, mentions_me=False)
    in_guild = SimpleNamespace(author=SimpleNamespace(bot=False), guild=object(), mentions_me=False)
    mention = SimpleNamespace(author=SimpleNamespace(bot=False), guild=object(), mentions_me=True)
    from_bot = SimpleNamespace(author=SimpleNamespace(bot=True), guild=None, mentions_me=True)
    assert [handlers.addressed(me, m) for m in (dm, in_guild, mention, from_bot)] == [True, False, True, False]


async def test_the_client_registers_its_slash_commands_offline(tmp_path: Path) -> None:
    settings = DiscordSettings(bot_token=TOKEN, admin_ids="1, 2", _env_file=None)
    client = FashionBot(settings, RecommenderSettings(catalog=tmp_path / "c.csv", index=tmp_path / "i", _env_file=None))
    assert {command.name for command in client.tree.get_commands()} == {"similar", "more", "style", "reindex"}
    assert settings.admin_ids == {1, 2} and TOKEN not in repr(settings)
    await client.close()
