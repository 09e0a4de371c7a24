"""A shop's own words → the heads' vocabulary: taxonomy ids and paths, product types, titles, colour names and
genders in the languages shops write, each case a row of a table."""

from __future__ import annotations

import time

import pytest

from catalog import Product
from catalog.vocabulary import PARENT, VOCABULARY, feed_labels, is_apparel
from catalog.vocabulary.taxonomy import google_taxonomy
from catalog.vocabulary.words import fold


def product(**fields: str) -> Product:
    return Product(id="p1", title=fields.pop("title", ""), link="https://shop.example/p1",
                   image_link="https://shop.example/p1.jpg", **fields)


def labels(**fields: str) -> dict[str, str]:
    return {attribute: label.value for attribute, label in feed_labels(product(**fields)).items()}


# google_product_category, as an id or a path → (category, sub_category) it names (None: not named)
TAXONOMY = [
    ("2271", "Dresses", "Dress"),
    ("Apparel & Accessories > Clothing > Dresses", "Dresses", "Dress"),
    ("apparel & accessories>clothing>dresses", "Dresses", "Dress"),  # case and spacing folded
    ("212", None, "Topwear"),  # a parent: Shirts & Tops names the family only
    ("Apparel & Accessories > Clothing > Shirts & Tops", None, "Topwear"),
    ("187", None, "Shoes"),
    ("207", "Shorts", "Bottomwear"),
    ("1581", "Skirts", "Bottomwear"),
    ("5598", "Jackets", "Topwear"),
    ("5513", "Nightdress", "Loungewear and Nightwear"),
    ("204", None, "Bottomwear"),
    ("7313", None, "Apparel Set"),
    ("1604", None, None),  # "Clothing": no kind
    ("166", None, None),
    ("188", None, None),  # Jewelry
    ("2616", None, None),  # not apparel at all
    ("Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs", None, None),
    ("not a category", None, None),
]


@pytest.mark.parametrize(("given", "category", "sub_category"), TAXONOMY)
def test_google_product_category_ids_and_paths(given: str, category: str | None, sub_category: str | None) -> None:
    found = labels(google_product_category=given)
    assert (found.get("category"), found.get("sub_category")) == (category, sub_category)


def test_taxonomy_usage_and_the_table_is_the_apparel_branch_only() -> None:
    assert labels(google_product_category="5322")["usage"] == "Sports"  # Activewear
    assert labels(google_product_category="8248")["usage"] == "Ethnic"  # Saris & Lehengas
    assert labels(google_product_category="1580") == {"sub_category": "Apparel Set", "gender": "Men",
                                                     "usage": "Formal"}  # Tuxedos
    taxonomy = google_taxonomy()
    assert len(taxonomy.by_id) == 240 and all(node.path.startswith("Apparel & Accessories")
                                              for node in taxonomy.by_id.values())
    for node in taxonomy.by_id.values():  # every label the table names is the heads'
        for attribute, value in node.labels.items():
            assert value in VOCABULARY[attribute], (node.path, attribute, value)
        if "category" in node.labels:
            assert node.labels["sub_category"] == PARENT[node.labels["category"]]


# product_type (any language, any separator) → the labels it names
PRODUCT_TYPES = [
    ("Clothing > Tops > T-Shirts", {"category": "Tshirts", "sub_category": "Topwear"}),
    ("Ropa Urbana > Camisetas", {"category": "Tshirts", "usage": "Casual"}),
    ("Одяг > Жіночий одяг > Спортивні костюми", {"sub_category": "Apparel Set", "gender": "Women",
                                                 "usage": "Sports"}),
    ("Одежда > Женская одежда > Спортивные костюмы", {"sub_category": "Apparel Set", "gender": "Women"}),
    ("トップス(メンズ) > Tシャツ(半袖)", {"category": "Tshirts", "gender": "Men"}),
    ("トップス(レディース) > ワンピース", {"category": "Dresses", "sub_category": "Dress", "gender": "Women"}),
    ("ボトムス > ハーフパンツ・ショートパンツ", {"category": "Shorts", "sub_category": "Bottomwear"}),
    ("コート(メンズ) > トレンチコート", {"sub_category": "Topwear", "gender": "Men"}),
    ("Sarees > Wedding Sarees", {"category": "Sarees", "sub_category": "Saree", "usage": "Ethnic"}),
    ("Menswear > Groom Sherwanis", {"sub_category": "Topwear", "gender": "Men", "usage": "Ethnic"}),
    ("Suits > Anarkali Suits", {"category": "Kurta Sets", "sub_category": "Apparel Set"}),
    ("Women / Footwear / Heels", {"category": "Heels", "sub_category": "Shoes", "gender": "Women"}),
    ("Men | Shoes | Sneakers", {"category": "Casual Shoes", "gender": "Men"}),
    ("Ženska odeća > Haljine", {"category": "Dresses", "gender": "Women"}),
    ("Muška obuća > Patike", {"category": "Casual Shoes", "gender": "Men"}),
    ("महिलाओं के कपड़े > साड़ी", {"category": "Sarees", "gender": "Women", "usage": "Ethnic"}),
    ("पुरुष > कुर्ता", {"category": "Kurtas", "gender": "Men"}),
    ("Мужская одежда > Футболки", {"category": "Tshirts", "gender": "Men"}),
    ("Жіноче взуття > Кросівки", {"category": "Sports Shoes", "gender": "Women"}),
    ("Ropa de mujer > Vestidos", {"category": "Dresses", "gender": "Women"}),
    ("Hombre > Pantalones cortos", {"category": "Shorts", "gender": "Men"}),
    ("Calzado > Chanclas", {"category": "Flip Flops", "sub_category": "Flip Flops"}),
    ("Footwear > Sandal > Sandals", {"category": "Sandals", "sub_category": "Sandal"}),
    ("Kids > Girls > Dresses", {"category": "Dresses", "gender": "Girls"}),
    ("Igračke", {}),
]


@pytest.mark.parametrize(("given", "expected"), PRODUCT_TYPES)
def test_product_type_words_in_every_language(given: str, expected: dict[str, str]) -> None:
    found = labels(product_type=given)
    assert {attribute: found.get(attribute) for attribute in expected} == expected
    if not expected:
        assert found == {}


TITLES = [
    ("Puma Men's Furore White Shoe", {"sub_category": "Shoes", "colour": "White", "gender": "Men"}),
    ("Жіночий спортивний костюм петля однотонний - крем", {"sub_category": "Apparel Set", "gender": "Women",
                                                          "colour": "Cream", "usage": "Sports"}),
    ("abx エービーエックス Tシャツ ワンポイントロゴ ブラック Mサイズ メンズ 古着", {"category": "Tshirts",
                                                                 "colour": "Black", "gender": "Men"}),
    ("DRESSTERIOR ドレステリア ニット セーター レディース Mサイズ グレー", {"category": "Sweaters", "colour": "Grey",
                                                             "gender": "Women"}),
    ("Opispot Camiseta Unisex | Camiseta Retro - Color Azul Marino - Talla S",
     {"category": "Tshirts", "gender": "Unisex", "colour": "Navy Blue"}),
    ("Mint Green Kanchipuram Silk Wedding Saree", {"category": "Sarees", "colour": "Green", "usage": "Ethnic"}),
    ("Men's and Women's Running Shoes", {"category": "Sports Shoes", "gender": "Unisex"}),
    ("Girls Polo T-shirt", {"category": "Tshirts", "gender": "Girls"}),
    ("लड़कों के लिए नीली जींस", {"category": "Jeans", "gender": "Boys", "colour": "Blue"}),
    ("Vestido de fiesta burdeos para mujer", {"category": "Dresses", "colour": "Maroon", "gender": "Women"}),
    ("2 u 1 Silikonska metla", {"category": None, "sub_category": None}),
]


@pytest.mark.parametrize(("title", "expected"), TITLES)
def test_title_words(title: str, expected: dict[str, str | None]) -> None:
    found = labels(title=title)
    assert {attribute: found.get(attribute) for attribute in expected} == expected


COLOURS = [
    ("Dark Blue", "Navy Blue"), ("Navy Blue", "Navy Blue"), ("Greenish Khaki", "Green"), ("Ecru", "Cream"),
    ("Темно-синій", "Navy Blue"), ("темно синий", "Navy Blue"), ("Burdeos", "Maroon"), ("黒", "Black"),
    ("ネイビー", "Navy Blue"), ("Beige Crudo", "Beige"), ("Azul Real", "Blue"), ("Gris Jaspeado", "Grey"),
    ("Off-White", "Off White"), ("Ivory", "Cream"), ("Wine", "Maroon"), ("Rani Pink", "Pink"),
    ("Dusty Rose", "Pink"), ("Lavender", "Purple"), ("Teal Green", "Green"), ("Rust Orange", "Orange"),
    ("Antique Gold", "Gold"), ("мокко", "Brown"), ("графіт", "Grey"), ("бургунді", "Maroon"), ("оливка", "Green"),
    ("світло сірий", "Grey"), ("блакитний", "Blue"), ("голубой", "Blue"), ("Marrón Chocolate", "Brown"),
    ("Graphite", "Grey"), ("Midnight", "Navy Blue"), ("काला", "Black"), ("Crna", "Black"), ("ЧЁРНЫЙ", "Black"),
    ("Black/White", "Black"), ("Red, Blue, Green", "Multi"), ("Multicolor", "Multi"), ("マルチカラー", "Multi"),
    ("Lavender Mist", "Purple"), ("Heather Grey", "Grey"), ("Melocotón", "Peach"),
]


@pytest.mark.parametrize(("given", "family"), COLOURS)
def test_shop_colour_names_map_to_a_family(given: str, family: str) -> None:
    found = feed_labels(product(color=given))["colour"]
    assert found.value == family and found.feed_field == "color" and found.confidence >= 0.85


def test_unknown_colour_names_stay_unlabelled() -> None:
    assert "colour" not in feed_labels(product(color="Galaxy Print"))


GENDERS = [
    ({"gender": "male"}, "Men"), ({"gender": "female"}, "Women"), ({"gender": "unisex"}, "Unisex"),
    ({"gender": "Ladieswear"}, "Women"), ({"gender": "Menswear"}, "Men"), ({"gender": "Womens"}, "Women"),
    ({"gender": "Жінкам"}, "Women"), ({"gender": "Чоловікам"}, "Men"), ({"gender": "Mujer"}, "Women"),
    ({"gender": "Hombre"}, "Men"), ({"gender": "レディース"}, "Women"), ({"gender": "メンズ"}, "Men"),
    ({"gender": "महिला"}, "Women"), ({"gender": "male", "age_group": "kids"}, "Boys"),
    ({"gender": "female", "age_group": "toddler"}, "Girls"), ({"gender": "female", "age_group": "adult"}, "Women"),
    ({"gender": "unisex", "age_group": "infant"}, "Unisex"), ({"title": "Детская футболка для мальчиков"}, "Boys"),
    ({"gender": "male", "title": "Baby Blue polo"}, "Men"),
]


@pytest.mark.parametrize(("fields", "gender"), GENDERS)
def test_genders_and_age_groups(fields: dict[str, str], gender: str) -> None:
    assert labels(**fields)["gender"] == gender


def test_sources_rank_by_confidence_and_say_where_they_came_from() -> None:
    found = feed_labels(product(google_product_category="2271", product_type="Lehengas > Bridal Lehengas",
                                title="Pastel Pink Bridal Lehenga", color="Pastel Pink", gender="female"))
    assert found["category"].value == "Dresses" and found["category"].confidence == 0.95
    assert found["category"].feed_field == "google_product_category" and "Dresses" in found["category"].evidence
    assert found["sub_category"].value == "Dress"  # the taxonomy's leaf outranks the product type's "Lehengas"
    assert found["usage"].value == "Ethnic" and found["usage"].feed_field == "product_type"
    assert found["gender"].confidence == 1.0
    title_only = feed_labels(product(title="Blue cotton shirt"))
    assert title_only["category"].confidence == 0.7 and title_only["category"].feed_field == "title"
    typed = feed_labels(product(product_type="Shirts"))
    assert typed["category"].confidence == 0.85


def test_two_fields_naming_one_label_are_surer_than_either() -> None:
    kurti = feed_labels(product(product_type="Apparel > Topwear > Kurtis", title="Aurelia Women Blue Kurti"))
    assert kurti["category"].value == "Kurtis" and kurti["category"].confidence == pytest.approx(0.955)
    assert kurti["category"].feed_field == "product_type" and "title" in kurti["category"].evidence
    assert kurti["sub_category"].confidence == pytest.approx(0.955)  # its parent, from both fields too
    coloured = feed_labels(product(title="Blue cotton shirt", color="Blue"))
    assert coloured["colour"].confidence == pytest.approx(1 - 0.05 * 0.3)
    # Fields that disagree are not witnesses: the surer one stands, as sure as it was.
    crossed = feed_labels(product(product_type="Shirts", title="Printed T-shirt"))
    assert crossed["category"].value == "Shirts" and crossed["category"].confidence == 0.85
    # One field naming a label twice (a path's two parts; a part and its child's parent) is one witness.
    twice = feed_labels(product(product_type="Shirts > Shirts"))
    assert twice["category"].confidence == 0.85
    topwear = feed_labels(product(product_type="Topwear > Kurtis", title="Kurti"))
    assert topwear["sub_category"].confidence == pytest.approx(0.955)
    # Three fields: the taxonomy's leaf, the shop's type and the title.
    three = feed_labels(product(google_product_category="2271", product_type="Dresses", title="Linen dress"))
    assert three["category"].value == "Dresses"
    assert three["category"].confidence == pytest.approx(1 - 0.05 * 0.15 * 0.3, abs=1e-4)


def test_a_specific_product_type_refines_a_family_node_and_a_stronger_family_drops_a_contradicting_kind() -> None:
    sandals = labels(google_product_category="187", product_type="Footwear > Sandals")
    assert (sandals["category"], sandals["sub_category"]) == ("Sandals", "Sandal")
    pants = labels(google_product_category="204", title="Pants with a shirt print")
    assert pants["sub_category"] == "Bottomwear" and pants["category"] == "Trousers"
    contradicted = labels(google_product_category="Apparel & Accessories > Clothing > Dresses",
                          title="Shirt")
    assert contradicted["category"] == "Dresses"


def test_words_of_a_product_filed_as_other_goods_name_no_kind() -> None:
    mug = labels(google_product_category="Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
                 product_type="Hogar > Tazas", title='Taza "Error 404" | Humor de Oficina - Color Blanco')
    assert mug == {"colour": "White"}
    assert not is_apparel(product(google_product_category="2616", title="T-shirt shaped lamp"))
    assert not is_apparel(product(google_product_category="1604", title="Anti-theft USB torba sa šifrom",
                                  product_type="Torbe"))
    assert is_apparel(product(google_product_category="1604", title="Plain"))
    assert is_apparel(product(product_type="Одяг > Спортивні костюми"))
    assert not is_apparel(product(title="Solarna lampa"))


def test_folding() -> None:
    assert fold("Crème ЧЁРНЫЙ Ｔシャツ") == "creme черныи tシャツ"
    assert fold("ग्रे") == "ग्रे"  # Devanagari marks are vowels, kept


def test_the_vocabulary_is_consistent() -> None:
    assert set(PARENT) == set(VOCABULARY["category"])
    assert set(PARENT.values()) <= set(VOCABULARY["sub_category"])
    assert len(VOCABULARY["category"]) == 27 and len(VOCABULARY["colour"]) == 20


def test_labels_are_quick() -> None:
    products = [product(title=f"Opispot Camiseta Unisex {n} - Color Azul Real", product_type="Ropa > Camisetas",
                        google_product_category="212", color="Azul Real", gender="unisex") for n in range(2000)]
    feed_labels(products[0])
    start = time.perf_counter()
    for item in products:
        feed_labels(item)
    assert (time.perf_counter() - start) / len(products) < 0.002  # 100 k products in well under a minute


@pytest.mark.slow
def test_the_vocabulary_is_the_shipped_heads() -> None:
    from engine.config import DEFAULT_ARTIFACT
    from engine.heads import HeadArtifact

    shipped = HeadArtifact.load(DEFAULT_ARTIFACT).head.spec.vocabularies
    assert {attribute: tuple(labels) for attribute, labels in shipped.items()} == dict(VOCABULARY)
