"""An unusable image gets the reply for its kind of problem, in every language, whatever the decoder's English
detail says (a formatted "too large (8000×6000 …)" once fell through to "send a JPEG" in Russian and Hindi)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chat import Conversation, Sessions, UserError
from chat.i18n import language, languages
from chat.replies import IMAGE_PROBLEMS, image_problem
from engine import ImageDecodeError, ImageProblem
from tests.auxil.fakes import FakeRecommender, make_catalog

REPLIES = {
    ("en", ImageProblem.EMPTY): "The file is empty.",
    ("en", ImageProblem.TOO_LARGE): "That image has too many pixels for me to read.",
    ("en", ImageProblem.NOT_IMAGE): "That file is not an image I can read",
    ("en", ImageProblem.DAMAGED): "The image is damaged or incomplete",
    ("ru", ImageProblem.EMPTY): "Файл пустой.",
    ("ru", ImageProblem.TOO_LARGE): "В этом изображении слишком много пикселей",
    ("ru", ImageProblem.NOT_IMAGE): "Этот файл — не изображение",
    ("ru", ImageProblem.DAMAGED): "Изображение повреждено",
    ("hi", ImageProblem.EMPTY): "फ़ाइल खाली है।",
    ("hi", ImageProblem.TOO_LARGE): "इस तस्वीर में इतने पिक्सेल हैं",
    ("hi", ImageProblem.NOT_IMAGE): "यह फ़ाइल ऐसी तस्वीर नहीं है",
    ("hi", ImageProblem.DAMAGED): "तस्वीर खराब या अधूरी है",
}


def test_every_kind_has_a_reply_distinct_in_every_language() -> None:
    assert set(IMAGE_PROBLEMS) == set(ImageProblem)
    for code in languages():
        lang = language(code)
        texts = [image_problem(lang, ImageDecodeError(kind, "detail")) for kind in ImageProblem]
        assert len(set(texts)) == len(texts), code
        if code != "en":  # translated, not the English fallback
            assert not set(texts) & {image_problem(language("en"), ImageDecodeError(k, "")) for k in ImageProblem}


@pytest.mark.parametrize(("code", "kind"), sorted(REPLIES, key=str))
def test_each_kind_gets_its_own_reply_whatever_the_detail(code: str, kind: ImageProblem) -> None:
    lang = language(code)
    details = ["", "The image is too large (8000×6000 pixels); the limit is 40 megapixels.", "Файл пустой.",
               "That file is not an image I can read (JPEG, PNG, WebP, GIF…)."]
    replies = {image_problem(lang, ImageDecodeError(kind, detail)) for detail in details}
    assert len(replies) == 1
    assert replies.pop().startswith(REPLIES[code, kind])


@pytest.mark.parametrize(("code", "start"), [("en", "That image has too many pixels"),
                                             ("ru", "В этом изображении слишком много пикселей"),
                                             ("hi", "इस तस्वीर में इतने पिक्सेल हैं")])
async def test_a_png_bomb_is_refused_with_the_too_large_reply_in_the_users_language(tmp_path, code, start) -> None:
    out = io.BytesIO()
    Image.new("1", (9000, 6000)).save(out, "PNG")  # 54 MP in a few KB: a PNG cannot be decoded smaller
    conversation = Conversation(FakeRecommender(make_catalog(tmp_path)), Sessions(10), album_size=6, max_results=30)
    with pytest.raises(UserError) as refused:
        await conversation.photo(1, out.getvalue(), language=code)
    assert str(refused.value).startswith(start)
