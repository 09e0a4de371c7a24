"""The sample as another shop's Merchant Center feed would label it: same products, same images, none of its words.

`fashionbot eval` builds a second catalog from this relabelling and scores it against the *original* labels (the
same photo of the same product is right or wrong whatever the shop calls it), so the two rows side by side show
what the shop's vocabulary costs. What a real feed does, done here on purpose: GMC ``gender`` values (and
``age_group`` kids), ``google_product_category`` as a Google taxonomy id for some products and the full path for
others, ``product_type`` in Russian, Spanish or other English words (a few naming no kind at all, a few with no
Google category), colour names of its own (some left empty), no usage column, titles without the sample's label
words. Each product draws its choices from its own seeded stream, so the relabelling is the same on every run.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from catalog.product import Product

from .metrics import query_labels

LANGUAGES = ("ru", "es", "en")
GPC_SHARE_AS_ID = 0.5  # the rest give the full path, as Merchant Center accepts both
NO_GPC_SHARE = 0.1
NO_KIND_SHARE = 0.08  # product_type is a shop's shelf ("Sale", "New in"), not a kind
NO_COLOUR_SHARE = 0.15
NO_GENDER_SHARE = 0.1

CLOTHING = "Apparel & Accessories > Clothing"
# Google product taxonomy (2021-09-21) lines a shop would choose for each of the sample's kinds.
GOOGLE_CATEGORIES: dict[int, str] = {
    212: f"{CLOTHING} > Shirts & Tops",
    5598: f"{CLOTHING} > Outerwear > Coats & Jackets",
    1831: f"{CLOTHING} > Outerwear > Vests",
    204: f"{CLOTHING} > Pants",
    5514: f"{CLOTHING} > Outerwear > Rain Pants",
    207: f"{CLOTHING} > Shorts",
    1581: f"{CLOTHING} > Skirts",
    2271: f"{CLOTHING} > Dresses",
    5513: f"{CLOTHING} > Sleepwear & Loungewear > Nightgowns",
    2580: f"{CLOTHING} > Sleepwear & Loungewear > Pajamas",
    5713: f"{CLOTHING} > Sleepwear & Loungewear > Loungewear",
    2302: f"{CLOTHING} > Sleepwear & Loungewear > Robes",
    8248: f"{CLOTHING} > Traditional & Ceremonial Clothing > Saris & Lehengas",
    7313: f"{CLOTHING} > Outfit Sets",
    5250: f"{CLOTHING} > One-Pieces > Jumpsuits & Rompers",
    5322: f"{CLOTHING} > Activewear",
    215: f"{CLOTHING} > Underwear & Socks > Hosiery",
    177: "Apparel & Accessories > Clothing Accessories > Scarves & Shawls",
    176: "Apparel & Accessories > Clothing Accessories > Neckties",
    187: "Apparel & Accessories > Shoes",
    1083: "Sporting Goods > Athletics > Basketball > Basketballs",
}

# articleType → (Google category id or None, shelf: clothing / shoes / other, Russian, Spanish, other English).
KINDS: dict[str, tuple[int | None, str, str, str, str]] = {
    "Tshirts": (212, "clothing", "Футболки", "Camisetas", "Tees"),
    "Shirts": (212, "clothing", "Рубашки", "Camisas", "Button-downs"),
    "Tops": (212, "clothing", "Блузки", "Blusas", "Blouses"),
    "Kurtas": (212, "clothing", "Длинные туники", "Túnicas largas", "Long tunics"),
    "Kurtis": (212, "clothing", "Туники", "Túnicas cortas", "Short tunics"),
    "Tunics": (212, "clothing", "Туники", "Túnicas", "Longline blouses"),
    "Sweatshirts": (212, "clothing", "Толстовки", "Sudaderas", "Hoodies & crews"),
    "Sweaters": (212, "clothing", "Свитеры", "Jerséis", "Knitwear"),
    "Shrug": (212, "clothing", "Болеро", "Boleros", "Cover-ups"),
    "Jackets": (5598, "clothing", "Куртки", "Chaquetas", "Outerwear"),
    "Waistcoat": (1831, "clothing", "Жилеты", "Chalecos", "Gilets"),
    "Jeans": (204, "clothing", "Джинсы", "Vaqueros", "Denim"),
    "Trousers": (204, "clothing", "Брюки", "Pantalones", "Chinos"),
    "Track Pants": (204, "clothing", "Спортивные брюки", "Pantalones de chándal", "Joggers"),
    "Capris": (204, "clothing", "Бриджи", "Pantalones pirata", "Cropped pants"),
    "Leggings": (204, "clothing", "Леггинсы", "Mallas", "Yoga pants"),
    "Patiala": (204, "clothing", "Шаровары", "Pantalones bombachos", "Harem pants"),
    "Churidar": (204, "clothing", "Узкие брюки", "Pantalones pitillo", "Slim pants"),
    "Lounge Pants": (5713, "clothing", "Домашние брюки", "Pantalones de casa", "Loungers"),
    "Rain Trousers": (5514, "clothing", "Дождевые брюки", "Pantalones impermeables", "Waterproof pants"),
    "Shorts": (207, "clothing", "Шорты", "Pantalones cortos", "Bermudas"),
    "Lounge Shorts": (5713, "clothing", "Домашние шорты", "Pantalones cortos de casa", "Sleep bottoms"),
    "Skirts": (1581, "clothing", "Юбки", "Faldas", "Minis & midis"),
    "Dresses": (2271, "clothing", "Платья", "Vestidos", "Frocks"),
    "Rompers": (5250, "clothing", "Комбинезоны", "Monos", "Playsuits"),
    "Nightdress": (5513, "clothing", "Ночные сорочки", "Camisones", "Nighties"),
    "Baby Dolls": (5513, "clothing", "Пеньюары", "Picardías", "Chemises"),
    "Night suits": (2580, "clothing", "Пижамы", "Pijamas", "PJ sets"),
    "Bath Robe": (2302, "clothing", "Халаты", "Albornoces", "Robes"),
    "Sarees": (8248, "clothing", "Сари", "Saris", "Drapes"),
    "Kurta Sets": (7313, "clothing", "Комплекты с туникой", "Conjuntos étnicos", "Co-ords"),
    "Tracksuits": (5322, "clothing", "Спортивные костюмы", "Chándales", "Sweatsuits"),
    "Stockings": (215, "clothing", "Чулки", "Medias", "Hosiery"),
    "Dupatta": (177, "other", "Палантины", "Chales", "Stoles"),
    "Ties": (176, "other", "Галстуки", "Corbatas", "Neckwear"),
    "Casual Shoes": (187, "shoes", "Кеды и слипоны", "Zapatillas urbanas", "Sneakers"),
    "Sports Shoes": (187, "shoes", "Кроссовки", "Zapatillas deportivas", "Trainers"),
    "Formal Shoes": (187, "shoes", "Классическая обувь", "Zapatos de vestir", "Oxfords & brogues"),
    "Heels": (187, "shoes", "Туфли на каблуке", "Tacones", "Pumps"),
    "Flats": (187, "shoes", "Балетки", "Bailarinas", "Ballerinas"),
    "Sandals": (187, "shoes", "Сандалии", "Sandalias", "Gladiators"),
    "Flip Flops": (187, "shoes", "Шлёпанцы", "Chanclas", "Thongs"),
    "Basketballs": (1083, "other", "Мячи", "Balones", "Balls"),
    "Free Gifts": (None, "other", "Подарки", "Regalos", "Freebies"),
}
UNKNOWN_KIND = (None, "other", "Разное", "Varios", "Miscellaneous")

# shelf → the department a shop's product_type starts with (ru, es, en), per audience
DEPARTMENTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "clothing": {"female": ("Женщинам", "Mujer", "Ladieswear"), "male": ("Мужчинам", "Hombre", "Menswear"),
                 "kids": ("Детям", "Niños", "Kidswear"), "all": ("Одежда", "Ropa", "Clothing")},
    "shoes": {"female": ("Женская обувь", "Calzado mujer", "Her kicks"),
              "male": ("Мужская обувь", "Calzado hombre", "His kicks"),
              "kids": ("Детская обувь", "Calzado infantil", "Kids kicks"), "all": ("Обувь", "Calzado", "Kicks")},
    "other": {"all": ("Аксессуары", "Accesorios", "Extras")},
}
SHELVES_WITHOUT_KIND = (("Новинки", "Novedades", "New in"), ("Распродажа", "Rebajas", "Sale"))

# baseColour → (Russian, Spanish, a shop's own English name)
COLOURS: dict[str, tuple[str, str, str]] = {
    "Black": ("Чёрный", "Negro", "Jet"), "White": ("Белый", "Blanco", "Snow"),
    "Blue": ("Синий", "Azul", "Cobalt"), "Grey": ("Серый", "Gris", "Heather"),
    "Brown": ("Коричневый", "Marrón", "Chocolate"), "Red": ("Красный", "Rojo", "Cherry"),
    "Navy Blue": ("Тёмно-синий", "Azul marino", "Midnight"), "Green": ("Зелёный", "Verde", "Forest"),
    "Pink": ("Розовый", "Rosa", "Blush"), "Yellow": ("Жёлтый", "Amarillo", "Lemon"),
    "Purple": ("Фиолетовый", "Morado", "Plum"), "Orange": ("Оранжевый", "Naranja", "Tangerine"),
    "Cream": ("Кремовый", "Crudo", "Ivory"), "Beige": ("Бежевый", "Arena", "Sand"),
    "Maroon": ("Бордовый", "Granate", "Burgundy"), "Silver": ("Серебристый", "Plateado", "Chrome"),
    "Multi": ("Разноцветный", "Estampado", "Print"), "Gold": ("Золотой", "Dorado", "Champagne"),
    "Peach": ("Персиковый", "Melocotón", "Apricot"), "Charcoal": ("Графитовый", "Gris oscuro", "Graphite"),
    "Off White": ("Молочный", "Hueso", "Ecru"), "Olive": ("Оливковый", "Oliva", "Moss"),
    "Grey Melange": ("Серый меланж", "Gris jaspeado", "Marl"), "Magenta": ("Пурпурный", "Fucsia", "Fuchsia"),
    "Turquoise Blue": ("Бирюзовый", "Turquesa", "Aqua"), "Khaki": ("Хаки", "Caqui", "Stone"),
    "Lavender": ("Лавандовый", "Lavanda", "Lilac"), "Rust": ("Терракотовый", "Óxido", "Terracotta"),
    "Bronze": ("Бронзовый", "Bronce", "Copper"), "Sea Green": ("Цвет морской волны", "Verde agua", "Mint"),
    "Mustard": ("Горчичный", "Mostaza", "Ochre"), "Teal": ("Сине-зелёный", "Verde azulado", "Petrol"),
    "Tan": ("Рыжий", "Tostado", "Camel"),
}
# The sample's gender → GMC gender, GMC age_group
GENDERS = {"Men": ("male", "adult"), "Women": ("female", "adult"), "Unisex": ("unisex", "adult"),
           "Boys": ("male", "kids"), "Girls": ("female", "kids")}

# Title words that carry the sample's labels; a shop's title would not use Myntra's words for them.
_TITLE_WORDS = (
    "men mens man women womens woman boys boy girls girl kids kid unisex ladies "
    "tshirt tshirts t-shirt t-shirts tee tees shirt shirts top tops kurta kurtas kurti kurtis kurta set tunic tunics "
    "sweatshirt sweatshirts sweater sweaters jacket jackets jeans trousers trouser track pants pant shorts short "
    "skirt skirts dress dresses saree sarees sari nightdress nighty dupatta leggings legging capris capri "
    "shoe shoes sneaker sneakers heels heel flats flat sandal sandals flip flop flops flip-flops floaters "
    "casual sports sport formal ethnic lounge night suit suits polo dark light"
)


def _label_words() -> frozenset[str]:
    words = set(_TITLE_WORDS.split())
    for name in [*KINDS, *COLOURS]:
        words.update(name.lower().split())
    return frozenset(words)


LABEL_WORDS = _label_words()


def relabel(products: Sequence[Product], *, seed: int = 0) -> list[Product]:
    """Every product, in order, with the same id, link and images, labelled as a foreign shop's feed would be."""
    return [_relabel(product, random.Random(f"foreign-feed:{seed}:{product.id}")) for product in products]


def _relabel(product: Product, rng: random.Random) -> Product:
    kind, colour, gender = query_labels(product)
    gpc_id, shelf, *names = KINDS.get(kind, UNKNOWN_KIND)
    language = rng.randrange(len(LANGUAGES))
    gmc_gender, age = GENDERS.get(gender, (None, None))
    audience = "kids" if age == "kids" else gmc_gender if gmc_gender in ("female", "male") else "all"
    departments = DEPARTMENTS[shelf]
    department = departments.get(audience, departments["all"])[language]
    if rng.random() < NO_KIND_SHARE:
        product_type = rng.choice(SHELVES_WITHOUT_KIND)[language]
    else:
        product_type = f"{department} > {names[language]}"
    google_category = None
    if gpc_id is not None and rng.random() >= NO_GPC_SHARE:
        google_category = str(gpc_id) if rng.random() < GPC_SHARE_AS_ID else GOOGLE_CATEGORIES[gpc_id]
    shop_colour = None
    if colour in COLOURS and rng.random() >= NO_COLOUR_SHARE:
        shop_colour = COLOURS[colour][language]
    if rng.random() < NO_GENDER_SHARE:
        gmc_gender = None
    return replace(product, title=shop_title(product), color=shop_colour, gender=gmc_gender, age_group=age,
                   product_type=product_type, google_product_category=google_category, extra={}, labels={},
                   label_conflicts={})


def shop_title(product: Product) -> str:
    """The title less the words that name its kind, colour, gender or use (a brand and model names stay)."""
    kept = []
    for word in product.title.split():
        if _bare(word) in LABEL_WORDS:  # "T-shirt", "Men's"
            continue
        parts = [part for part in re.split(r"[-/.]", word) if part]
        rest = [part for part in parts if _bare(part) not in LABEL_WORDS]  # "White-Red", "Mr.Men"
        kept += [word] if rest == parts else ["-".join(rest)] if rest else []
    return " ".join(kept) or f"Art. {product.id}"


def _bare(word: str) -> str:
    return re.sub(r"('s|’s)$", "", word.lower()).strip(".,;:!?()\"'")
