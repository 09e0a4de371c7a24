"""Photo → album with links, /more, /style — the real Application against the emulator, fake Recommender."""

from __future__ import annotations

import pytest

from tests.auxil.bot_api_emulator import BotApiEmulator
from tests.auxil.fakes import FakeRecommender, jpeg

from .conftest import ANN, BOB, contains

pytestmark = pytest.mark.usefixtures("bot_app")


async def test_photo_gets_an_album_with_links_then_a_more_button(api: BotApiEmulator) -> None:
    api.send_photo(ANN, jpeg("red", (1200, 900)))
    [action] = await api.wait_for("sendChatAction", chat_id=ANN.id)
    [album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    [follow_up] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))

    assert action.params["action"] == "upload_photo" and action.at < album.at
    assert len(album.result) == 6
    captions = [item["caption"] for item in album.params["media"]]
    assert all("EUR · Acme" in caption and "\nhttps://shop.example.com/p/" in caption for caption in captions)
    assert all("red" in caption for caption in captions[:5])  # the fake catalog has five red items
    assert [c.split(".")[0] for c in captions] == ["1", "2", "3", "4", "5", "6"]
    rows = follow_up.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["url"] for row in rows[:-2]] == [c.split("\n")[-1] for c in captions]
    assert [b["callback_data"] for b in rows[-2]] == ["more", "style"]
    assert [b["text"] for b in rows[-1]] == ["👍", "👎"]


async def test_local_images_are_uploaded_once_and_remote_ones_passed_by_url(api: BotApiEmulator) -> None:
    api.send_photo(ANN, jpeg("blue"))  # P007 is blue, its image a URL
    [first] = await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    sources = [item["media"] for item in first.params["media"]]
    assert any(s.startswith("attach://") for s in sources) and any(s.startswith("https://") for s in sources)
    assert len(first.files) == sum(s.startswith("attach://") for s in sources)

    api.send_photo(BOB, jpeg("blue"))
    [second] = await api.wait_for("sendMediaGroup", chat_id=BOB.id)
    assert second.files == {}
    assert [item["media"] for item in second.params["media"]] == [m["photo"][-1]["file_id"]
                                                                  for m in first.result]


async def test_image_sent_as_a_file_is_searched_like_a_photo(api: BotApiEmulator) -> None:
    api.send_document(ANN, jpeg("blue"), file_name="look.jpg", mime_type="image/jpeg")
    [album] = await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    assert all("blue" in item["caption"] for item in album.params["media"][:5])


async def test_more_pages_without_repeating_until_there_are_no_more(api: BotApiEmulator) -> None:
    api.send_photo(ANN, jpeg("green"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    for page in range(2, 6):
        api.send_text(ANN, "/more") if page % 2 else api.press_button(ANN, "more")
        await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=page)
    albums = api.calls_to("sendMediaGroup", chat_id=ANN.id)
    titles = [item["caption"].split("\n")[0] for call in albums for item in call.params["media"]]
    assert len(titles) == 30 and len({t.split(". ", 1)[1] for t in titles}) == 30
    last = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 25–30"))
    assert "That's all" in last[0].params["text"]
    assert [b["callback_data"] for b in last[0].params["reply_markup"]["inline_keyboard"][-2]] == ["style"]
    api.send_text(ANN, "/more")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("No more matches"))
    assert len(api.calls_to("answerCallbackQuery")) == 2


async def test_more_before_any_photo_says_what_to_do(api: BotApiEmulator) -> None:
    api.send_text(ANN, "/more")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Send me a photo first"))


async def test_style_tells_what_was_recognised_and_narrows_more_and_next_photos(
        api: BotApiEmulator, recommender: FakeRecommender) -> None:
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    api.send_text(ANN, "/style")
    [style] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"))
    assert "colour: Red (" in style.params["text"] and "%)" in style.params["text"]
    assert "Filter: none" in style.params["text"]

    api.send_text(ANN, "/style women")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter: women."))
    api.send_text(ANN, "/more")
    await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2)
    api.send_photo(ANN, jpeg("blue"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=3)
    later = api.calls_to("sendMediaGroup", chat_id=ANN.id)[1:]
    assert all(item["caption"].startswith(tuple(f"{n}. Women's" for n in range(1, 13)))
               for call in later for item in call.params["media"])
    notes = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("(filter: women)"), count=2)
    assert [n.params["text"][:11] for n in notes] == ["Matches 7–1", "Matches 1–6"]


async def test_style_buttons_narrow_and_clear(api: BotApiEmulator) -> None:
    api.send_photo(ANN, jpeg("yellow"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 1–6"))
    api.press_button(ANN, "style")
    [style] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"))
    buttons = [b["callback_data"] for row in style.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["style:gender=women", "style:color=yellow", "style:usage=casual",
                       "style:product_type=casual shoes"]
    api.press_button(ANN, "style:gender=women")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter: women."))
    api.press_button(ANN, "more")
    await api.wait_for("sendMediaGroup", chat_id=ANN.id, count=2)
    [_, narrowed] = api.calls_to("sendMediaGroup", chat_id=ANN.id)
    assert all(" Women's " in item["caption"] for item in narrowed.params["media"])
    api.send_text(ANN, "/style")
    [_, again] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("What I see"), count=2)
    assert "Filter: women." in again.params["text"]
    assert "style:clear" in [b["callback_data"] for row in again.params["reply_markup"]["inline_keyboard"]
                             for b in row]
    api.press_button(ANN, "style:clear")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter cleared"))


async def test_filter_that_matches_nothing_says_so(api: BotApiEmulator) -> None:
    api.send_text(ANN, "/style purple")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter: purple."))
    api.send_photo(ANN, jpeg("red"))
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Nothing among the matches for your photo"))
    assert api.calls_to("sendMediaGroup") == []


async def test_start_help_and_registered_commands(api: BotApiEmulator) -> None:
    [commands] = api.calls_to("setMyCommands", language_code=None)
    assert [c["command"] for c in commands.params["commands"]] == ["start", "more", "style", "help"]
    api.send_text(ANN, "/help")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("“sort by price”"))
    api.send_text(ANN, "hello?")
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("I didn't understand “hello”. Send a photo"))


async def test_a_last_page_of_one_product_is_sent_as_a_single_photo(api: BotApiEmulator) -> None:
    api.send_text(ANN, "/style formal")  # seven formal shoes in the fake catalog
    await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Filter: formal."))
    api.send_photo(ANN, jpeg("black"))
    await api.wait_for("sendMediaGroup", chat_id=ANN.id)
    api.send_text(ANN, "/more")
    [photo] = await api.wait_for("sendPhoto", chat_id=ANN.id)
    assert photo.params["caption"].startswith("7. ") and "formal shoes" in photo.params["caption"]
    [links] = await api.wait_for("sendMessage", chat_id=ANN.id, text=contains("Matches 7 "))
    assert "That's all" in links.params["text"]


async def test_style_before_any_photo_explains_and_shows_the_filter(api: BotApiEmulator) -> None:
    api.send_text(ANN, "/style")
    [reply] = await api.wait_for("sendMessage", chat_id=ANN.id)
    assert reply.params["text"].startswith("Send me a photo and /style tells") and "Filter: none." in \
        reply.params["text"]
    assert "reply_markup" not in reply.params
