"""Dataclasses ↔ JSON text, generically, by their type hints: what a session store keeps of a session.

Any dataclass whose fields are plain data — str, int, float, bool, None, enums, lists, sets, tuples, dicts with
str keys, other such dataclasses, and numpy arrays (kept as base64 of their bytes) — round-trips without code of
its own, so a field added to :class:`chat.state.Session` persists as soon as it is added. Fields missing from
stored text take their defaults (text written before the field existed); stored fields the class no longer has
are ignored (text written by a newer version, read during a rolling deploy). Annotations are resolved with
``typing.get_type_hints``: a type named in one must be importable at run time from its module, not only under
``TYPE_CHECKING``.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
_ARRAY = "__ndarray__"


def dumps(value: Any) -> str:
    return json.dumps(to_plain(value), separators=(",", ":"))


def loads(text: str, kind: type[T]) -> T:
    return from_plain(json.loads(text), kind)


def to_plain(value: Any) -> Any:
    """``value`` as JSON-able data: dataclasses become dicts, sets sorted lists, arrays base64."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return {_ARRAY: base64.b64encode(np.ascontiguousarray(value).tobytes()).decode(),
                "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, set | frozenset):
        return sorted(to_plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__}: give the session plain data only")


def from_plain(data: Any, kind: Any) -> Any:
    """The inverse of :func:`to_plain`, guided by ``kind`` (a class or a type hint)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        return from_plain(data, next(arg for arg in args if arg is not type(None)))
    if kind is np.ndarray:
        array = np.frombuffer(base64.b64decode(data[_ARRAY]), dtype=np.dtype(data["dtype"]))
        return array.reshape(data["shape"]).copy()  # writable, as the engine's own arrays are
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        known = {name: from_plain(value, hints[name]) for name, value in data.items()
                 if name in hints and _is_init_field(kind, name)}
        return kind(**known)
    if origin in (set, frozenset, list, tuple):
        item = args[0] if args else Any
        return origin(from_plain(value, item) for value in data)
    if origin is dict:
        item = args[1] if len(args) == 2 else Any
        return {key: from_plain(value, item) for key, value in data.items()}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    if kind is float and isinstance(data, int):
        return float(data)
    return data


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _is_init_field(kind: type, name: str) -> bool:
    return any(f.name == name and f.init for f in dataclasses.fields(kind))
