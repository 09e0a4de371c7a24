"""feed_labels on whatever a feed may hold: it never raises, and names only the heads' labels."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import Product
from catalog.vocabulary import VOCABULARY, feed_labels, is_apparel
from catalog.vocabulary.taxonomy import google_taxonomy

FUZZ = settings.get_profile("fuzz")

# Text near what feeds hold (words the tables know, separators, ids) mixed with any text at all.
_KNOWN = st.sampled_from(["T-shirt", "футболк", "Tシャツ", "ドレス", "Navy Blue", "Темно-синій", "male", "kids",
                          "Apparel & Accessories > Clothing", "2271", "साड़ी", "camisetas", " > ", "/", "|", "*",
                          "ﾃｨｰｼｬﾂ", "\u0301", "\x00", "\ufeff", "Ｔ", "ß", "İ", "0" * 40])
_TEXT = st.one_of(st.none(), st.text(max_size=200), st.lists(st.one_of(_KNOWN, st.text(max_size=8)),
                                                             max_size=12).map("".join))
_PATHS = st.sampled_from([node.path for node in google_taxonomy().by_id.values()])
_CATEGORIES = st.one_of(_TEXT, _PATHS, st.sampled_from(sorted(google_taxonomy().by_id)),
                        st.integers(-10, 10**9).map(str))


@settings(FUZZ, max_examples=400)
@given(title=_TEXT, product_type=_TEXT, category=_CATEGORIES, color=_TEXT, gender=_TEXT, age_group=_TEXT,
       usage=_TEXT)
def test_feed_labels_never_raise_and_name_only_the_vocabulary(caplog, title, product_type, category, color, gender,
                                                              age_group, usage) -> None:
    caplog.clear()
    product = Product(id="x", title=title or "", link="https://shop.example/x", image_link="https://shop.example/x",
                      product_type=product_type, google_product_category=category, color=color, gender=gender,
                      age_group=age_group, extra={"usage": usage} if usage else {})
    labels = feed_labels(product)
    for attribute, label in labels.items():
        assert label.value in VOCABULARY[attribute]
        assert 0.0 < label.confidence <= 1.0 and label.evidence and label.feed_field
    assert isinstance(is_apparel(product, labels), bool)
    assert not caplog.records  # nothing failed inside and was swallowed: odd text is simply unlabelled


@settings(FUZZ, max_examples=50)
@given(st.sampled_from([1, 2.5, b"bytes", ["T-shirt"], {"a": 1}]))
def test_fields_of_the_wrong_type_give_nothing_rather_than_raise(caplog, value) -> None:
    caplog.clear()
    product = Product(id="x", title="T-shirt", link="l", image_link="i", color=value, gender=value,
                      product_type=value, google_product_category=value, age_group=value)
    assert feed_labels(product)["category"].value == "Tshirts"
    assert not caplog.records
