"""Paths into a game's JSON (`PrivateData`): taking the values they name out, and putting them back.

A declared path is keys joined by dots, `*` standing for every element of a list or every value of
an object (`seats.*.holeCards`); the empty path is the whole value. A concrete path names one
value: a JSON Pointer (RFC 6901: `/seats/0/holeCards`, `""` for the whole value), unambiguous
whatever the keys hold, so that what was taken out is put back without knowing the declaration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

Path = tuple[str, ...]
WHOLE: Path = ()


def parse(text: str) -> Path:
    """A declared path's keys; ValueError for an empty key (`a..b`, a leading or trailing dot)."""
    if text == "":
        return WHOLE
    keys = tuple(text.split("."))
    if any(key == "" for key in keys):
        raise ValueError(f"the path {text!r} has an empty key: write keys joined by single dots")
    return keys


def find(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """Every (concrete keys, value) `path` names in `value`, values that are null left out."""
    yield from _find(value, path, ())


def _find(value: Any, path: Path, at: Path) -> Iterator[tuple[Path, Any]]:
    if not path:
        if value is not None:
            yield at, value
        return
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        if head == "*":
            for key, item in value.items():
                yield from _find(item, rest, (*at, key))
        elif head in value:
            yield from _find(value[head], rest, (*at, head))
    elif isinstance(value, list):
        if head == "*":
            for index, item in enumerate(value):
                yield from _find(item, rest, (*at, str(index)))
        elif head.isdigit() and int(head) < len(value):
            yield from _find(value[int(head)], rest, (*at, head))


def pointer(keys: Sequence[str]) -> str:
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in keys)


def keys_of(text: str) -> Path:
    """The keys of a JSON Pointer; ValueError for one that does not start with `/`."""
    if text == "":
        return WHOLE
    if not text.startswith("/"):
        raise ValueError(f"{text!r} is not a JSON Pointer")
    return tuple(key.replace("~1", "/").replace("~0", "~") for key in text[1:].split("/"))


def put(value: Any, keys: Path, item: Any) -> Any:
    """Set `item` at `keys` inside `value` (in place) and return the value: `item` itself for the
    whole value. KeyError/IndexError/TypeError when `keys` leads nowhere."""
    if not keys:
        return item
    parent = value
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last = keys[-1]
    if isinstance(parent, list):
        parent[int(last)] = item
    elif isinstance(parent, dict):
        if last not in parent:
            raise KeyError(last)
        parent[last] = item
    else:
        raise TypeError(f"{pointer(keys)} is inside a {type(parent).__name__}")
    return value
