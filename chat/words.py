"""The words a user may refine results with, in English; each language's catalog gives its own.

Each entry is a gettext message with a context: ``|`` separates alternatives, a word may be several words
("sort by price"), and ``*`` ends a word that may take any ending ("кроссовк*" is every form of it). Plurals
and case are folded before matching, so "Dresses" finds "dress". The catalog's own labels (its colours, types,
brands …) are understood too, without an entry here: these are synonyms, the words people use for them.
"""

from __future__ import annotations

from .i18n import NP_

# (field, value, words): the words name that value of a filter field. A product type's value is one or more
# type names ('|'), matched against the catalog's own product types.
LABELS = [
    ("gender", "men", NP_("words for: men", "men|man|mens|male|gents|guys|him")),
    ("gender", "women", NP_("words for: women", "women|woman|womens|female|ladies|lady|her")),
    ("gender", "boys", NP_("words for: boys", "boy|boys")),
    ("gender", "girls", NP_("words for: girls", "girl|girls")),
    ("gender", "unisex", NP_("words for: unisex", "unisex")),
    ("usage", "casual", NP_("words for: casual wear", "casual|everyday|daily")),
    ("usage", "formal", NP_("words for: formal wear", "formal|office|business|work")),
    ("usage", "sports", NP_("words for: sportswear", "sport|sports|sporty|athletic|gym|running|training")),
    ("usage", "ethnic", NP_("words for: ethnic wear", "ethnic|traditional|festive")),
    ("usage", "party", NP_("words for: party wear", "party|evening")),
    ("color", "black", NP_("words for the colour: black", "black")),
    ("color", "white", NP_("words for the colour: white", "white")),
    ("color", "grey", NP_("words for the colour: grey", "grey|gray")),
    ("color", "blue", NP_("words for the colour: blue", "blue")),
    ("color", "navy", NP_("words for the colour: navy blue", "navy|navy blue|dark blue")),
    ("color", "red", NP_("words for the colour: red", "red|reddish")),
    ("color", "green", NP_("words for the colour: green", "green")),
    ("color", "brown", NP_("words for the colour: brown", "brown")),
    ("color", "pink", NP_("words for the colour: pink", "pink")),
    ("color", "purple", NP_("words for the colour: purple", "purple|violet")),
    ("color", "yellow", NP_("words for the colour: yellow", "yellow")),
    ("color", "orange", NP_("words for the colour: orange", "orange")),
    ("color", "beige", NP_("words for the colour: beige", "beige|nude")),
    ("color", "cream", NP_("words for the colour: cream", "cream|crème|ivory")),
    ("color", "maroon", NP_("words for the colour: maroon", "maroon|burgundy|wine")),
    ("color", "silver", NP_("words for the colour: silver", "silver")),
    ("color", "gold", NP_("words for the colour: gold", "gold|golden")),
    ("color", "multi", NP_("words for the colour: multicoloured", "multi|multicolour|multicolor|colourful")),
    ("product_type", "tshirts", NP_("words for the product type: T-shirts", "t-shirts|tshirt|tee|t shirt")),
    ("product_type", "shirts", NP_("words for the product type: shirts", "shirts")),
    ("product_type", "tops", NP_("words for the product type: tops", "tops|blouse")),
    ("product_type", "kurtas|kurtis|kurta sets", NP_("words for the product type: kurtas", "kurtas|kurti")),
    ("product_type", "dresses", NP_("words for the product type: dresses", "dresses|gown|frock")),
    ("product_type", "jeans", NP_("words for the product type: jeans", "jeans|denim")),
    ("product_type", "trousers|track pants", NP_("words for the product type: trousers",
                                                  "trousers|pants|slacks|chinos")),
    ("product_type", "shorts", NP_("words for the product type: shorts", "shorts")),
    ("product_type", "skirts", NP_("words for the product type: skirts", "skirts")),
    ("product_type", "jackets", NP_("words for the product type: jackets", "jackets|coat")),
    ("product_type", "sweatshirts|sweaters", NP_("words for the product type: sweaters",
                                                  "sweaters|sweatshirt|hoodie|jumper|pullover")),
    ("product_type", "sarees", NP_("words for the product type: sarees", "sarees|sari")),
    ("product_type", "casual shoes|sports shoes", NP_("words for the product type: sneakers",
                                                       "sneakers|trainers|kicks")),
    ("product_type", "heels", NP_("words for the product type: heels", "heels|stiletto|pumps")),
    ("product_type", "flats", NP_("words for the product type: flats", "flats|ballerina")),
    ("product_type", "sandals", NP_("words for the product type: sandals", "sandals")),
    ("product_type", "flip flops", NP_("words for the product type: flip-flops", "flip-flops|flip flop|slipper")),
    ("product_type", "shoes", NP_("words for the product type: shoes", "shoes|footwear")),
]

# What a word does rather than what it names.
RESET = NP_("words that clear every refinement",
            "start over|reset|clear|restart|show all|show everything|everything|from scratch|clear filter|"
            "no filter|remove filter")
CHEAPER = NP_("words that ask for cheaper products", "cheaper|cheap|less expensive|lower price|budget|affordable")
AT_MOST = NP_("words before or after a price: at most that much",
              "under|below|less than|up to|upto|max|maximum|at most|within|to|till|until|or less|or below|<|≤")
AT_LEAST = NP_("words before or after a price: at least that much",
               "over|above|more than|from|at least|min|minimum|or more|and up|and above|>|≥")
BETWEEN = NP_("words before a price range: between A and B", "between")
BY_PRICE = NP_("words that sort by price, cheapest first",
               "sort by price|by price|cheapest first|cheapest|price low to high|low to high|lowest price")
BY_SIMILARITY = NP_("words that sort by similarity again", "most similar|by similarity|best match|most relevant")
NOT = NP_("words that exclude what follows", "no|not|without|except|exclude|excluding|minus|non|hide|dont")
AND = NP_("words that join two things", "and|or|nor")
IGNORED = NP_("words that carry no refinement (ignored)",
              "in|for|a|an|the|like|this|these|that|those|one|ones|but|show|me|please|pls|only|just|some|"
              "something|with|want|need|i|im|looking|find|give|get|see|also|more|of|any|colour|color|version|"
              "style|same|similar|it|them|do|you|have|instead|rather|is|are|there|by|brand|price|priced|at|"
              "around|on|can|could|would|lets|items|things|products|stuff|made|than|same as")

# Currency names people write after a number ("2000 rupees"); ISO codes and symbols are understood anyway.
CURRENCY_WORDS = [
    ("INR", NP_("words for the currency: Indian rupees", "rupee|rs|rupees")),
    ("USD", NP_("words for the currency: US dollars", "dollar|buck|bucks")),
    ("EUR", NP_("words for the currency: euros", "euro|euros")),
    ("GBP", NP_("words for the currency: pounds sterling", "pound|quid")),
    ("RUB", NP_("words for the currency: roubles", "rouble|ruble|rub")),
    ("UAH", NP_("words for the currency: hryvnias", "hryvnia|hryvnias|uah")),
]
