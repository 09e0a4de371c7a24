"""Google's product taxonomy, the Apparel & Accessories part, mapped onto the heads' vocabulary.

``google_taxonomy.tsv`` holds every node under id 166 as Google publishes it (version 2021-09-21) with the
labels it names: a leaf such as "Clothing > Dresses" names a category and its sub_category, a parent such as
"Clothing > Shirts & Tops" a sub_category only, "Activewear" and "Traditional & Ceremonial Clothing" a usage.
A feed gives the node as its numeric id ("2271") or as its path ("Apparel & Accessories > Clothing > Dresses").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib.resources import files

from catalog.vocabulary.words import fold

ROOT_ID = "166"
_COLUMNS = ("category", "sub_category", "gender", "usage")
_SEPARATOR = re.compile(r"\s*(?:>|›|»)\s*")


@dataclass(frozen=True, slots=True)
class TaxonomyNode:
    id: str
    path: str
    labels: dict[str, str]  # attribute → label, only those the node names

    @property
    def is_apparel(self) -> bool:
        """Clothing, shoes and costumes: what the heads were trained to see (not jewellery, bags, belts)."""
        return self.path.startswith(("Apparel & Accessories > Clothing >", "Apparel & Accessories > Shoes"))\
            or self.path in ("Apparel & Accessories > Clothing",)


@dataclass(frozen=True, slots=True)
class Taxonomy:
    by_id: dict[str, TaxonomyNode]
    by_path: dict[str, TaxonomyNode]  # folded path, single-spaced around ">"

    def find(self, value: str | None) -> TaxonomyNode | None:
        """The node a feed's google_product_category names, or None (another branch, or not a node at all)."""
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if text.isdigit():
            return self.by_id.get(text.lstrip("0") or "0")
        return self.by_path.get(_path_key(text))

    def names_other_goods(self, value: str | None) -> bool:
        """Whether google_product_category files the product outside clothing and shoes: another branch of
        the taxonomy (mugs, toys), or jewellery, bags and accessories. False where it says nothing readable."""
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            return False
        node = self.find(text)
        if node is not None:
            return not node.is_apparel and node.id != ROOT_ID
        if text.isdigit():
            return True  # ids are unique across the taxonomy: one not under 166 is some other branch
        return ">" in text and not _path_key(text).startswith("apparel & accessories")


def _path_key(path: str) -> str:
    return " > ".join(part for part in _SEPARATOR.split(fold(path)) if part)


@functools.cache
def google_taxonomy() -> Taxonomy:
    """The shipped table, read once."""
    text = files(__package__).joinpath("google_taxonomy.tsv").read_text(encoding="utf-8")
    by_id: dict[str, TaxonomyNode] = {}
    by_path: dict[str, TaxonomyNode] = {}
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    for line in lines[1:]:  # the header row
        cells = line.split("\t")
        cells += [""] * (2 + len(_COLUMNS) - len(cells))
        node_id, path = cells[0], cells[1]
        labels = {name: value for name, value in zip(_COLUMNS, cells[2:], strict=False) if value}
        node = TaxonomyNode(node_id, path, labels)
        by_id[node_id] = node
        by_path[_path_key(path)] = node
    return Taxonomy(by_id, by_path)
