"""The fashion heads' vocabulary, and what a shop's own feed says in it.

``feed_labels(product)`` maps a product's Google product category, product_type, title, colour, gender and
age group onto the heads' labels (:data:`VOCABULARY`), per attribute, with a confidence and the evidence it
used. The words, the taxonomy and the vocabulary are data files beside this package.
"""

from catalog.vocabulary.apparel import is_apparel
from catalog.vocabulary.labels import FeedLabel, feed_labels
from catalog.vocabulary.vocabulary import ATTRIBUTES, PARENT, VOCABULARY

__all__ = ["ATTRIBUTES", "PARENT", "VOCABULARY", "FeedLabel", "feed_labels", "is_apparel"]
