"""JSON as the engine contract checks see it: whether a value is JSON data the store keeps as it is,
where two values first differ, and where a private value shows up in a view or an event.

A private value (what `secrets(state, player_id)` lists) is found by its structure, not by its text:

- an object (dict) matches every object that holds all its keys with equal values, so
  `{"playerId": "p1", "dice": [2, 5]}` finds p1's dice wherever they sit next to p1's id, and a
  die that shows 2 somewhere else is no match;
- any other value matches an equal value anywhere (a string also matches an object key). Equal is
  JSON's equal: `1` is not `true`, `[1]` is not `{"0": 1}`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

# Object keys sorted, so that equal values give equal bytes; non-string keys written as strings,
# as a client would receive them (a dump's keys are checked by `json_problem` instead).
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

# What orjson, the store's encoder, writes as an integer: beyond this it refuses the value.
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


def json_problem(value: object, path: str) -> str | None:
    """None when `value` is JSON data that comes back equal from the store: dicts with string
    keys, lists, strings, ints, booleans, None. Otherwise what is not, and where."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return (
                    f"{path} has the {type(key).__name__} key {key!r}: JSON object keys are "
                    "strings, so it comes back as a string; build the key with str()"
                )
            problem = json_problem(item, f"{path}[{key!r}]")
            if problem is not None:
                return problem
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = json_problem(item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    return _scalar_problem(value, path)


def _scalar_problem(value: object, path: str) -> str | None:
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int):
        if _MIN_INT <= value <= _MAX_INT:
            return None
        return f"{path} is {value}, an integer beyond 64 bits, which the store cannot encode"
    if isinstance(value, float):
        return (
            f"{path} is the float {value!r}: keep whole numbers (milliseconds, cents), as JSON "
            "floats do not compare exactly after a round trip"
        )
    if isinstance(value, tuple):
        return f"{path} is the tuple {_short(value)}: JSON gives a list back, so make it a list"
    return (
        f"{path} is a {type(value).__name__} ({_short(value)}), not JSON data: use dicts with "
        "string keys, lists, strings, ints, booleans and None"
    )


@dataclass(frozen=True, slots=True)
class Copy:
    """A value as it was when taken: `value` as plain JSON (or a deep copy of what JSON cannot
    hold), and `text`, its canonical JSON, which compares two copies fast."""

    value: Any
    text: bytes | None

    @classmethod
    def of(cls, value: object) -> Copy:
        try:
            text = orjson.dumps(value, option=_CANONICAL)
        except TypeError:
            return cls(copy.deepcopy(plain(value)), None)
        return cls(orjson.loads(text), text)

    def difference(self, other: Copy, path: str, a_name: str, b_name: str) -> str | None:
        if self.text is not None and self.text == other.text:
            return None
        return first_difference(self.value, other.value, path, a_name, b_name)


def plain(value: Any) -> Any:
    """`value` with every mapping a dict and every tuple a list: the JSON a client receives."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def json_equal(a: object, b: object) -> bool:
    """Equality as JSON sees it: unlike Python's, `True != 1` and `1 != 1.0`."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def first_difference(a: object, b: object, path: str, a_name: str, b_name: str) -> str | None:
    """None when `a` and `b` are equal JSON; else the first place they differ, named by `path`."""
    if isinstance(a, dict) and isinstance(b, dict):
        return _dict_difference(a, b, path, a_name, b_name)
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{index}]", a_name, b_name)
            if found is not None:
                return found
        if len(a) != len(b):
            return f"{path} has {len(a)} items {a_name} and {len(b)} {b_name}"
        return None
    if json_equal(a, b):
        return None
    return f"{path} is {_short(a)} {a_name} and {_short(b)} {b_name}"


def _dict_difference(
    a: dict[Any, Any], b: dict[Any, Any], path: str, a_name: str, b_name: str
) -> str | None:
    for key in sorted(a.keys() | b.keys(), key=repr):
        where = f"{path}[{key!r}]"
        if key not in b:
            return f"{where} is {_short(a[key])} {a_name} and missing {b_name}"
        if key not in a:
            return f"{where} is missing {a_name} and {_short(b[key])} {b_name}"
        found = first_difference(a[key], b[key], where, a_name, b_name)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True)
class Secret:
    owner: str
    value: Any


@dataclass(frozen=True, slots=True)
class Sighting:
    secret: Secret
    path: str


class SecretIndex:
    """Private values to look for, indexed so that one walk over a view finds any of them."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        self._scalars: dict[tuple[type, object], Secret] = {}
        self._compound: list[Secret] = []
        for secret in secrets:
            if isinstance(secret.value, dict | list):
                self._compound.append(secret)
            else:
                self._scalars.setdefault((type(secret.value), secret.value), secret)

    def __bool__(self) -> bool:
        return bool(self._scalars or self._compound)

    def find(self, value: Any, path: str) -> Sighting | None:
        """The first private value that `value` (plain JSON) shows, and where."""
        return next(self._walk(value, path), None)

    def sightings(self, value: Any, path: str) -> Iterator[Sighting]:
        """Every private value that `value` (plain JSON) shows, and where (one may repeat)."""
        return self._walk(value, path)

    def _walk(self, value: Any, path: str) -> Iterator[Sighting]:
        for secret in self._compound:
            if _matches(secret.value, value):
                yield Sighting(secret, path)
        if isinstance(value, dict):
            for key, item in value.items():
                keyed = self._scalars.get((str, key))
                if keyed is not None:
                    yield Sighting(keyed, f"{path} (the key {key!r})")
                yield from self._walk(item, f"{path}[{key!r}]")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self._walk(item, f"{path}[{index}]")
        else:
            scalar = self._scalars.get((type(value), value))
            if scalar is not None:
                yield Sighting(scalar, path)


def _matches(pattern: object, value: object) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and json_equal(item, value[key]) for key, item in pattern.items()
        )
    return json_equal(pattern, value)


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
