"""reconcile, from a table: which of the feed's and the packshot's labels a product keeps, and what conflicts."""

from __future__ import annotations

import pytest

from catalog.vocabulary import FeedLabel
from engine.attributes import Attributes
from recommender.labelling import IMAGE_FLOORS, ViewVotes, reconcile


def feed(**labels: tuple[str, float]) -> dict[str, FeedLabel]:
    return {name: FeedLabel(value, confidence, f"feed {name}") for name, (value, confidence) in labels.items()}


def image(**tops: tuple[str, float]) -> Attributes:
    """The heads' output with ``tops`` as each attribute's top label (the rest of the mass on 'Other')."""
    return Attributes({name: {value: p, "Other": round(1 - p, 6) / 2, "Another": round(1 - p, 6) / 2}
                       for name, (value, p) in tops.items()})


def kept(labels: dict) -> dict[str, tuple[str, str]]:
    return {name: (label["value"], label["source"]) for name, label in labels.items()}


CASES = [
    # (what the row pins down, feed labels, image, labels kept as (value, source), conflicts as (feed, image, won))
    ("no head: the feed's labels are all there is",
     feed(category=("Tshirts", 0.95), sub_category=("Topwear", 0.95), gender=("Women", 1.0)), None,
     {"category": ("Tshirts", "feed"), "sub_category": ("Topwear", "feed"), "gender": ("Women", "feed")}, {}),
    ("image and feed agree: the feed's label, nothing to report",
     feed(colour=("Navy Blue", 0.95)), image(colour=("Navy Blue", 0.99)), {"colour": ("Navy Blue", "feed")}, {}),
    ("a surer image overrules the feed, and the conflict is kept",
     feed(colour=("Red", 0.6)), image(colour=("Maroon", 0.9)),
     {"colour": ("Maroon", "image")}, {"colour": ("Red", "Maroon", "image")}),
    ("an exact feed label (confidence 1) is never overruled; a sure image that differs is reported",
     feed(gender=("Men", 1.0)), image(gender=("Women", 0.97)),
     {"gender": ("Men", "feed")}, {"gender": ("Men", "Women", "feed")}),
    ("an unsure image that differs is neither followed nor reported",
     feed(usage=("Formal", 0.95)), image(usage=("Casual", 0.55)), {"usage": ("Formal", "feed")}, {}),
    ("no feed label: the image's when it clears the floor",
     {}, image(gender=("Women", 0.8), usage=("Casual", 0.61)),
     {"gender": ("Women", "image"), "usage": ("Casual", "image")}, {}),
    ("no feed label and an unsure image: unlabelled, never forced",
     {}, image(colour=("Blue", 0.5), gender=("Men", 0.4)), {}, {}),
    ("an image category brings its parent along",
     {}, image(category=("Heels", 0.9), sub_category=("Sandal", 0.55)),
     {"category": ("Heels", "image"), "sub_category": ("Shoes", "image")}, {}),
    ("a mislabelled product: the T-shirt sold as jeans is relabelled, category and parent, and reported",
     feed(category=("Jeans", 0.8), sub_category=("Bottomwear", 0.8)),
     image(category=("Tshirts", 0.93), sub_category=("Topwear", 0.97)),
     {"category": ("Tshirts", "image"), "sub_category": ("Topwear", "image")},
     {"category": ("Jeans", "Tshirts", "image"), "sub_category": ("Bottomwear", "Topwear", "image")}),
    ("an image category whose parent a surer feed sub-category denies is left out",
     feed(sub_category=("Bottomwear", 0.95)), image(category=("Tshirts", 0.9), sub_category=("Bottomwear", 0.6)),
     {"sub_category": ("Bottomwear", "feed")}, {"sub_category": ("Bottomwear", "Topwear", "feed")}),
    ("… and where the feed named a weaker category of that parent, the feed's category stands",
     feed(category=("Jeans", 0.6), sub_category=("Bottomwear", 0.95)), image(category=("Tshirts", 0.9)),
     {"category": ("Jeans", "feed"), "sub_category": ("Bottomwear", "feed")},
     {"category": ("Jeans", "Tshirts", "feed"), "sub_category": ("Bottomwear", "Topwear", "feed")}),
    ("a feed category sets its parent over a differing image sub-category",
     feed(category=("Kurtas", 1.0)), image(sub_category=("Apparel Set", 0.9)),
     {"category": ("Kurtas", "feed"), "sub_category": ("Topwear", "feed")}, {}),
    ("a sub-category alone (a tracksuit: no category of its own) stays",
     feed(sub_category=("Topwear", 0.9)), image(category=("Jackets", 0.4)), {"sub_category": ("Topwear", "feed")},
     {}),
]


@pytest.mark.parametrize(("rule", "said", "seen", "expected", "conflicts"), CASES, ids=[case[0] for case in CASES])
def test_reconcile(rule: str, said, seen, expected: dict, conflicts: dict) -> None:
    labels, found = reconcile(said, seen)
    assert kept(labels) == expected
    assert {name: (c["feed"], c["image"], c["won"]) for name, c in found.items()} == conflicts


def test_labels_say_where_they_came_from_and_how_sure() -> None:
    labels, conflicts = reconcile(feed(category=("Jeans", 0.8)), image(category=("Tshirts", 0.931)))
    assert labels["category"] == {"value": "Tshirts", "source": "image", "confidence": 0.931,
                                  "evidence": "the packshot (the feed said Jeans: feed category)"}
    assert labels["sub_category"]["value"] == "Topwear"
    assert conflicts["category"] == {"feed": "Jeans", "image": "Tshirts", "image_confidence": 0.931, "won": "image"}


def test_one_floor_for_every_attribute() -> None:
    seen = image(colour=("Blue", 0.5), gender=("Men", 0.5))
    assert kept(reconcile({}, seen, floor=0.45)[0]) == {"colour": ("Blue", "image"), "gender": ("Men", "image")}
    assert reconcile({}, seen, floor=0.55)[0] == {}
    assert set(IMAGE_FLOORS) == {"category", "sub_category", "colour", "gender", "usage"}


def test_a_products_views_vote_together() -> None:
    votes = ViewVotes({"colour": ["Blue", "Red"], "gender": ["Men", "Women"]})
    votes.add("p1", Attributes({"colour": {"Blue": 0.9, "Red": 0.1}, "gender": {"Men": 0.2, "Women": 0.8}}))
    votes.add("p1", Attributes({"colour": {"Blue": 0.3, "Red": 0.7}, "gender": {"Men": 0.4, "Women": 0.6}}))
    mean = votes.mean("p1")
    assert mean is not None and votes.views("p1") == 2
    assert mean.top("colour") == ("Blue", pytest.approx(0.6)) and mean.top("gender") == ("Women", pytest.approx(0.7))
    assert votes.mean("p2") is None and votes.views("p2") == 0


def test_votes_take_rows_as_workers_send_them() -> None:
    votes = ViewVotes({"colour": ["Blue", "Red"]})
    sent = votes.row(Attributes({"colour": {"Blue": 0.2, "Red": 0.8}}))
    sent.flags.writeable = False  # as a Ray batch hands it over
    votes.add("p1", sent)
    votes.add("p1", sent)
    mean = votes.mean("p1")
    assert mean is not None and mean.top("colour") == ("Red", pytest.approx(0.8))
