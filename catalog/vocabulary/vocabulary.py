"""The heads' vocabulary as data (``vocabulary.toml``): the labels of each attribute, each category's parent."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from types import MappingProxyType

ATTRIBUTES = ("category", "sub_category", "colour", "gender", "usage")

_DATA = tomllib.loads(files(__package__).joinpath("vocabulary.toml").read_text(encoding="utf-8"))

VOCABULARY: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {attribute: tuple(_DATA[attribute]) for attribute in ATTRIBUTES})
# category → its sub_category ("Tshirts" → "Topwear").
PARENT: MappingProxyType[str, str] = MappingProxyType(
    {category: parent for parent, categories in _DATA["parent"].items() for category in categories})
