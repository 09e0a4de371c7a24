"""Prices (missing ones, several currencies), and ratings kept in SQLite or Redis and reported."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest

from catalog import Product
from chat import pricing
from chat.feedback import RedisFeedback, SqliteFeedback, open_feedback
from chat.feedback_report import report
from chat.state import PageRecord
from index import Filters, SearchHit


def hit(pid: str, price: str | None, rank: int = 0) -> SearchHit:
    return SearchHit(Product(id=pid, title=pid, link="https://s/" + pid, image_link="/x.jpg", price=price), 0.9, rank)


def test_by_price_never_shows_an_unpriced_product_as_the_cheapest() -> None:
    hits = [hit("none", None, 0), hit("bad", "call us", 1), hit("b", "30 EUR", 2), hit("a", "20 EUR", 3)]
    assert [h.product.id for h in pricing.by_price(hits, "EUR")] == ["a", "b", "none", "bad"]


def test_by_price_compares_amounts_only_within_a_currency() -> None:
    hits = [hit("inr", "100 INR", 0), hit("eur-dear", "90 EUR", 1), hit("usd", "$5", 2), hit("eur", "10 EUR", 3),
            hit("inr-cheap", "50 INR", 4)]
    ordered = [h.product.id for h in pricing.by_price(hits, "EUR")]
    assert ordered == ["eur", "eur-dear", "inr-cheap", "inr", "usd"]  # '$' names no one currency
    assert pricing.main_currency(hits) in ("EUR", "INR")
    assert pricing.main_currency([hit("x", None)]) is None


@pytest.mark.parametrize(("prices", "cap", "expected"), [
    ([10.0, 20.0, 30.0, 40.0], None, 20.0),  # the median of what was shown
    ([10.0, 20.0, 30.0], 20.0, 10.0),  # always below the cap already in force
    ([25.0, 25.0, 25.0], None, None),  # nothing shown is cheaper than the rest
    ([], None, None),  # no prices shown
])
def test_cheaper_goes_below_what_was_shown(prices: list[float], cap: float | None, expected: float | None) -> None:
    assert pricing.cheaper_cap(prices, cap) == expected


NO_FILTERS = Filters()


def record(number: int, photo: str = "abc", categories=("Heels", "Flats"), filters: Filters = NO_FILTERS) -> PageRecord:
    return PageRecord(number, photo, (f"p{number}", f"q{number}"), categories, filters, "similarity")


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        return SqliteFeedback(tmp_path / "deep" / "feedback.sqlite")
    return RedisFeedback(fakeredis.FakeAsyncRedis())


async def test_one_rating_per_page_is_kept_with_photo_products_and_filters(store) -> None:
    from chat.feedback import Rating

    assert await store.ratings() == []
    page = record(1, filters=Filters(color="red", max_price=50.0, currency="EUR"))
    assert await store.add(Rating.of(7, page, liked=False, language="ru"))
    assert not await store.add(Rating.of(7, page, liked=True, language="ru"))  # the same page again
    assert await store.add(Rating.of(8, page, liked=True, language="en"))  # another user's page
    [first, second] = await store.ratings()
    assert (first.liked, first.photo, first.products, first.language) == (False, "abc", ("p1", "q1"), "ru")
    assert first.filters == {"color": "red", "max_price": 50.0, "currency": "EUR"}
    assert second.liked and first.page != second.page
    await store.aclose()


async def test_the_report_shows_the_liked_share_worst_photos_and_disappointing_types() -> None:
    from chat.feedback import Rating

    ratings = [Rating.of(1, record(1, "shoe", ("Heels", "Flats")), liked=False, language="en"),
               Rating.of(2, record(2, "shoe", ("Heels",)), liked=False, language="en"),
               Rating.of(3, record(3, "tee", ("Tshirts",)), liked=True, language="en"),
               Rating.of(4, record(4, "tee", ("Tshirts", "Flats")), liked=True, language="en")]
    found = report(ratings)
    assert (found.rated, found.liked, found.liked_share) == (4, 2, 0.5)
    assert [t.name for t in found.worst_photos] == ["shoe"]
    assert [(t.name, t.disliked_share) for t in found.categories] == [("Heels", 1.0), ("Flats", 0.5),
                                                                      ("Tshirts", 0.0)]
    text = found.text()
    assert "4 pages rated, 50% liked" in text and "shoe: 2 of 2 disliked" in text and "Heels: 100% of 2" in text
    assert report([]).text() == "No pages rated yet."
    assert found.to_dict()["liked_share"] == 0.5


def test_redis_is_used_where_configured(tmp_path: Path) -> None:
    assert isinstance(open_feedback(tmp_path / "f.sqlite"), SqliteFeedback)
    assert isinstance(open_feedback(tmp_path / "f.sqlite", "redis://127.0.0.1:1/0"), RedisFeedback)


async def test_a_shared_redis_client_is_closed_by_its_owner_only() -> None:
    class Client:
        closed = 0

        async def aclose(self) -> None:
            self.closed += 1

    shared, own = Client(), open_feedback(Path("unused.sqlite"), "redis://127.0.0.1:1/0")
    await RedisFeedback(shared).aclose()  # the Telegram bot's client, which its sessions use too
    assert shared.closed == 0
    own.client = Client()
    await own.aclose()  # made from the URL: its own
    assert own.client.closed == 1


def test_a_rated_pages_types_are_the_normalised_categories_whatever_the_shop_calls_them() -> None:
    from chat.state import Session

    labelled = Product(id="uk", title="Футболка", link="https://s/uk", image_link="/x.jpg",
                       product_type="Жінкам > Футболки",
                       labels={"category": {"value": "Tshirts", "source": "feed", "confidence": 0.85, "evidence": ""}})
    plain = Product(id="demo", title="Heels", link="https://s/demo", image_link="/y.jpg",
                    product_type="Footwear > Shoes > Heels")
    record = Session().remember([SearchHit(labelled, 0.9, 0), SearchHit(plain, 0.8, 1)], 0)
    assert record.categories == ("Tshirts", "Heels")
