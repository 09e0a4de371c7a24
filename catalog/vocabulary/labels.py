"""What a product's feed says in the heads' vocabulary: :func:`feed_labels`.

Each source gives what it can, with a confidence that says how directly the shop named the label:

- ``google_product_category`` (0.95): the shop picked a node of a fixed taxonomy; not 1.0 because shops pick
  coarse or wrong nodes (a feed files its lehengas under "Dresses"). A node that names a family only (0.8:
  "Shoes" → Shoes, though Google files sandals there too) yields to a product_type that names the kind.
- ``gender`` (1.0 for Merchant Center's own male / female / unisex, 0.95 for a word such as "Womens"),
  ``color`` (0.95 for one colour name, 0.85 for the first of a two-colour list) and a ``usage`` column where a
  feed has one (0.95): fields meant for exactly this.
- ``product_type`` (0.85): the shop's own taxonomy, the most specific part that names the attribute; words,
  not a fixed list, so a word can mislead ("Jeans" in "Jeans jackets").
- ``title`` (0.7; 0.55 where its words disagree): words written for people, not for filing.

For each attribute the most confident source wins; where two fields name the same label it is surer than either
(:func:`corroborated`). A category also gives its parent sub_category; a category
whose parent contradicts a more confident sub_category is dropped. ``age_group`` kids, toddler, infant or
newborn turns Men and Women into Boys and Girls. Nothing here raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from catalog.product import Product
from catalog.vocabulary.colours import colour_family
from catalog.vocabulary.taxonomy import google_taxonomy
from catalog.vocabulary.vocabulary import PARENT
from catalog.vocabulary.words import Match, word_table

log = logging.getLogger(__name__)

TAXONOMY_CONFIDENCE = 0.95
TAXONOMY_FAMILY_CONFIDENCE = 0.8
MERCHANT_GENDER_CONFIDENCE = 1.0
FIELD_WORD_CONFIDENCE = 0.95
COLOUR_LIST_CONFIDENCE = 0.85
PRODUCT_TYPE_CONFIDENCE = 0.85
TITLE_CONFIDENCE = 0.7
TITLE_DISAGREEING_CONFIDENCE = 0.55

CHILD = "child"  # the gender words' marker for children's wear; not a label
_CHILD_AGES = frozenset({"kids", "kid", "toddler", "infant", "newborn", "child", "children", "baby"})
_MERCHANT_GENDERS = {"male": "Men", "female": "Women", "unisex": "Unisex"}
_AS_CHILD = {"Men": "Boys", "Women": "Girls"}
_PATH = re.compile(r"\s*(?:>|/|\||›|»|\\)\s*")


@dataclass(frozen=True, slots=True)
class FeedLabel:
    """One attribute's label in the heads' vocabulary as the feed gives it; ``feed_field`` names the field it
    came from (google_product_category, product_type, title, color, gender), ``evidence`` what it said."""

    value: str
    confidence: float
    evidence: str
    feed_field: str = ""


_Offer = Callable[[str, FeedLabel], None]


def feed_labels(product: Product) -> dict[str, FeedLabel]:
    """attribute → the feed's label for it; attributes the feed does not name are absent. Never raises."""
    word_table(), google_taxonomy()  # broken data files raise here, not hide behind the next line
    try:
        return _labels(product)
    except Exception as error:  # a label is a hint: an odd product gets none rather than stopping a build
        log.warning("no feed labels for product %r: %s", getattr(product, "id", None), error, exc_info=True)
        return {}


def _labels(product: Product) -> dict[str, FeedLabel]:
    found: dict[str, FeedLabel] = {}
    witnesses: dict[str, dict[str, FeedLabel]] = {}  # attribute → each field's surest naming of its label

    def offer(attribute: str, label: FeedLabel) -> None:
        known = found.get(attribute)
        if known is not None and known.value == label.value:
            said = witnesses[attribute]
            if label.feed_field not in said or label.confidence > said[label.feed_field].confidence:
                said[label.feed_field] = label
                found[attribute] = corroborated(list(said.values()))
        elif known is None or label.confidence > known.confidence:
            found[attribute] = label
            witnesses[attribute] = {label.feed_field: label}

    _from_taxonomy(_text(product.google_product_category), offer)
    # Where the taxonomy says the product is something else (a mug, a bag), words that look like a kind or a
    # usage are not trusted ("Taza … Humor de Oficina" is no formal wear); its colour and gender still are.
    words_offer = offer
    if google_taxonomy().names_other_goods(product.google_product_category):
        def words_offer(attribute: str, label: FeedLabel) -> None:
            if attribute in ("colour", "gender"):
                offer(attribute, label)
    child = _text(product.age_group).strip().lower() in _CHILD_AGES
    child |= _from_product_type(_text(product.product_type), words_offer)
    child |= _from_words("title", _text(product.title), words_offer)
    _from_gender(_text(product.gender), offer)
    _from_usage(_text(product.extra.get("usage")) if isinstance(product.extra, dict) else "", offer)
    _from_colour(_text(product.color), offer)
    _agree_category(found)
    gender = found.get("gender")
    if child and gender and gender.value in _AS_CHILD:
        found["gender"] = FeedLabel(_AS_CHILD[gender.value], gender.confidence, gender.evidence + " (a child's)",
                                    gender.feed_field)
    return found


def corroborated(labels: list[FeedLabel]) -> FeedLabel:
    """One label as several of the feed's fields name it (one label each): surer than any, as independent
    witnesses are (each wrong alone with 1 - its confidence), so that a packshot the head is merely fairly sure of
    does not overrule them ("Kurtis" in both a product_type and a title against a head's 0.87 for Kurtas)."""
    surest, *others = sorted(labels, key=lambda label: label.confidence, reverse=True)
    doubt = 1.0 - surest.confidence
    for other in others:
        doubt *= 1.0 - other.confidence
    evidence = "; ".join([surest.evidence, *(f"{other.feed_field} {other.evidence}" for other in others)])
    return FeedLabel(surest.value, round(1.0 - doubt, 4), evidence, surest.feed_field)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _from_product_type(text: str, offer: _Offer) -> bool:
    """Each attribute from the most specific part of the path that names it; True where it says kids'."""
    child = False
    done: set[str] = set()
    for part in reversed([part for part in _PATH.split(text) if part.strip()]):
        matches = [match for match in word_table().find(part) if match.attribute not in done]
        picked = _pick(matches)
        for attribute, (match, _) in picked.items():
            if attribute == "gender" and match.label == CHILD:
                child = True
                continue
            done.add(attribute)
            evidence = f'"{part.strip()}": {match.words}'
            offer(attribute, FeedLabel(match.label, PRODUCT_TYPE_CONFIDENCE, evidence, "product_type"))
            if attribute == "category" and match.label in PARENT:
                offer("sub_category", FeedLabel(PARENT[match.label], PRODUCT_TYPE_CONFIDENCE, evidence,
                                                "product_type"))
        child |= any(m.attribute == "gender" and m.label == CHILD for m in matches)
    return child


def _from_words(field_name: str, text: str, offer: _Offer) -> bool:
    """Labels from the words of a free text (the title); True where it says kids'."""
    matches = word_table().find(text) if text.strip() else []
    for attribute, (match, agreed) in _pick(matches).items():
        confidence = TITLE_CONFIDENCE if agreed else TITLE_DISAGREEING_CONFIDENCE
        offer(attribute, FeedLabel(match.label, confidence, match.words, field_name))
        if attribute == "category" and match.label in PARENT:
            offer("sub_category", FeedLabel(PARENT[match.label], confidence, match.words, field_name))
    return any(match.attribute == "gender" and match.label == CHILD for match in matches)


def _pick(matches: list[Match]) -> dict[str, tuple[Match, bool]]:
    """attribute → (its first match, whether all its matches agree). A text naming men and women is unisex."""
    by_attribute: dict[str, list[Match]] = {}
    for match in matches:
        if match.attribute == "gender" and match.label == CHILD:
            continue
        by_attribute.setdefault(match.attribute, []).append(match)
    picked: dict[str, tuple[Match, bool]] = {}
    for attribute, found in by_attribute.items():
        labels = {match.label for match in found}
        if attribute == "gender" and {"Men", "Women"} <= labels:
            first = found[0]
            picked[attribute] = (Match(attribute, "Unisex", first.words, first.start, first.length), True)
            continue
        picked[attribute] = (found[0], len(labels) == 1)
    return picked


def _from_taxonomy(given: str, offer: _Offer) -> None:
    node = google_taxonomy().find(given)
    if node is None:
        return
    evidence = f'"{given.strip()}" is {node.path}' if given.strip().isdigit() else f'"{node.path}"'
    family_only = "category" not in node.labels
    for attribute, value in node.labels.items():
        family = family_only and attribute == "sub_category"
        confidence = TAXONOMY_FAMILY_CONFIDENCE if family else TAXONOMY_CONFIDENCE
        offer(attribute, FeedLabel(value, confidence, evidence, "google_product_category"))


def _from_colour(colour: str, offer: _Offer) -> None:
    named = colour_family(colour, word_table()) if colour.strip() else None
    if named:
        value, words, is_list = named
        confidence = COLOUR_LIST_CONFIDENCE if is_list and value != "Multi" else FIELD_WORD_CONFIDENCE
        offer("colour", FeedLabel(value, confidence, f'"{colour}": {words}', "color"))


def _from_usage(usage: str, offer: _Offer) -> None:
    """A ``usage`` column (the demo catalog has one; Merchant Center has none)."""
    picked = _pick(word_table().find(usage)).get("usage") if usage.strip() else None
    if picked:
        match, _ = picked
        offer("usage", FeedLabel(match.label, FIELD_WORD_CONFIDENCE, f'"{usage}": {match.words}', "usage"))


def _from_gender(text: str, offer: _Offer) -> None:
    value = text.strip()
    if not value:
        return
    merchant = _MERCHANT_GENDERS.get(value.lower())
    if merchant:
        offer("gender", FeedLabel(merchant, MERCHANT_GENDER_CONFIDENCE, f'"{value}"', "gender"))
        return
    picked = _pick(word_table().find(value)).get("gender")
    if picked:
        match, _ = picked
        offer("gender", FeedLabel(match.label, FIELD_WORD_CONFIDENCE, f'"{value}": {match.words}', "gender"))


def _agree_category(found: dict[str, FeedLabel]) -> None:
    """Drop a category whose parent a more confident sub_category contradicts; fill a missing parent."""
    category = found.get("category")
    if category is None or category.value not in PARENT:
        return
    parent = PARENT[category.value]
    sub = found.get("sub_category")
    if sub is None or sub.confidence < category.confidence:
        found["sub_category"] = FeedLabel(parent, category.confidence, category.evidence, category.feed_field)
    elif sub.value != parent:
        del found["category"]
