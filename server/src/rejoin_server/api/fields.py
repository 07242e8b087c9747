"""Request bodies declared once: a body is a frozen dataclass (a `Body`) whose fields are annotated
with the kind of JSON value each takes, e.g. `Annotated[int | None, Integer(0, 8)]`. `read_fields`
builds one from a JSON object and `object_schema` describes it in JSON Schema for the OpenAPI
document, both from that one declaration, so what `/openapi.json` says is what the server checks.

The rules every body follows:

- A field's key on the wire is its name in camelCase (`at_seq` is `atSeq`).
- A field without a default is required; a key left out takes the field's default.
- `null` reads as left out (as in the WebSocket protocol), but for kinds that say otherwise
  (`Flag`: `null` is not false).
- Keys the body does not declare are ignored, so that a newer client may send more.
- Every refusal is `invalid_request`, with a message that names the key and what it must be.
  Booleans are not integers (JSON `true` is not a seat); `2.0` is 2 (see `json_numbers`).
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin, get_type_hints

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import names
from rejoin_server.errors import ApiError
from rejoin_server.json_numbers import whole_number

Schema = dict[str, Any]

MAX_COUNT = 2**53  # the default bound of an integer: exact in every JSON reader
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)


class Kind(ABC):
    """What one field takes: how a value is read, how it is described, what a missing one is told."""

    __slots__ = ()
    null_is_absent: ClassVar[bool] = True

    @abstractmethod
    def read(self, value: object, key: str, path: Mapping[str, Any]) -> object:
        """`value` (given; `None` only where `null_is_absent` is false) as the field's value, or
        `invalid`. `path` holds the request's path parameters, for a field that must agree."""

    @abstractmethod
    def schema(self) -> Schema:
        """The JSON Schema of a given value, with a `type`."""

    def missing(self, key: str) -> str:
        return f"`{key}` is required."


@dataclasses.dataclass(frozen=True, slots=True)
class Text(Kind):
    """A non-empty string of at most `max_length` characters without control characters
    (PostgreSQL cannot store NUL in text, and no id or token needs them)."""

    max_length: int
    description: str = ""

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> str:
        if not isinstance(value, str) or not value:
            raise invalid(f"`{key}` must be a non-empty string.")
        if len(value) > self.max_length:
            raise invalid(f"`{key}` must be at most {self.max_length} characters.")
        if _CONTROL.search(value):
            raise invalid(f"`{key}` must not contain control characters.")
        return value

    def schema(self) -> Schema:
        return _described(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": self.max_length,
                "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
            },
            self.description,
        )

    def missing(self, key: str) -> str:
        return f"`{key}` is required (a string)."


@dataclasses.dataclass(frozen=True, slots=True)
class PathEcho(Kind):
    """A body key that repeats a path parameter (`gameId`): read as `Text`, and it must be the
    same. Documented with the parameter's pattern: anything else cannot be that parameter."""

    parameter: str
    pattern: str
    max_length: int

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> str:
        text = Text(self.max_length).read(value, key, path)
        if text != path[self.parameter]:
            raise invalid(f"`{key}` in the body differs from the game in the path.")
        return text

    def schema(self) -> Schema:
        return {
            "type": "string",
            "pattern": self.pattern,
            "description": "If given, the game in the path.",
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Integer(Kind):
    """A whole number from `low` to `high`."""

    low: int = 0
    high: int = MAX_COUNT
    description: str = ""

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> int:
        number = whole_number(value)
        if number is None:
            raise invalid(f"`{key}` must be an integer.")
        if not self.low <= number <= self.high:
            raise invalid(f"`{key}` must be between {self.low} and {self.high}.")
        return number

    def schema(self) -> Schema:
        schema = {"type": "integer", "minimum": self.low, "maximum": self.high}
        return _described(schema, self.description)


@dataclasses.dataclass(frozen=True, slots=True)
class Flag(Kind):
    """`true` or `false`; `null` is neither."""

    null_is_absent: ClassVar[bool] = False

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> bool:
        if not isinstance(value, bool):
            raise invalid(f"`{key}` must be true or false.")
        return value

    def schema(self) -> Schema:
        return {"type": "boolean"}


@dataclasses.dataclass(frozen=True, slots=True)
class OneOf(Kind):
    """One of a few strings, spelled exactly."""

    choices: tuple[str, ...]

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise invalid(f"`{key}` must be one of {', '.join(self.choices)}.")
        return value

    def schema(self) -> Schema:
        return {"type": "string", "enum": list(self.choices)}

    def missing(self, key: str) -> str:
        return f"`{key}` is required: one of {', '.join(self.choices)}."


@dataclasses.dataclass(frozen=True, slots=True)
class Name(Kind):
    """A name other players will see (`names.player_name`), read up to `max_length` characters;
    the game's own rule (`game_max_length`, once trimmed) is what the document states."""

    max_length: int
    game_max_length: int

    def read(self, value: object, key: str, path: Mapping[str, Any]) -> str:
        return names.player_name(value, key, max_length=self.max_length)

    def schema(self) -> Schema:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.game_max_length,
            "pattern": names.name_pattern(),
            "description": f"1 to {self.game_max_length} characters once surrounding spaces are "
            f"trimmed (at most {self.max_length} before); no control or invisible formatting "
            "characters (the zero-width joiner and non-joiner are allowed), and at least one "
            "visible one.",
        }

    def missing(self, key: str) -> str:
        return f"`{key}` is required: the name to show at the table, as a string."


class Body:
    """The base of a declared body: subclasses are `@dataclass(frozen=True, slots=True)` with
    every field `Annotated[type, Kind]`."""

    __slots__ = ()
    description: ClassVar[str] = ""  # the body's description in the OpenAPI document
    may_be_empty: ClassVar[bool] = False  # an empty body reads as `{}`

    @classmethod
    def check_shape(cls, body: Mapping[str, Any]) -> None:
        """Refuse a body of a recognisably wrong shape before its fields are read, to say what is
        wrong with it as a whole rather than which field is missing."""


B = TypeVar("B", bound=Body)


def read_fields(cls: type[B], body: Mapping[str, Any], path: Mapping[str, Any]) -> B:
    """`body` (a JSON object) as a `cls`; `invalid` names the first field at fault."""
    cls.check_shape(body)
    values: dict[str, object] = {}
    for field in _fields(cls):
        value = body.get(field.key)
        if value is None and (field.key not in body or field.kind.null_is_absent):
            if field.required:
                raise invalid(field.kind.missing(field.key))
            continue
        values[field.name] = field.kind.read(value, field.key, path)
    return cls(**values)


def object_schema(cls: type[Body]) -> Schema:
    """The JSON Schema of `cls`'s bodies: its fields, which are required, and which may be null."""
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for field in _fields(cls):
        schema = field.kind.schema()
        if field.required:
            required.append(field.key)
        elif field.kind.null_is_absent:
            schema = {**schema, "type": [schema["type"], "null"]}
        properties[field.key] = schema
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if cls.description:
        out["description"] = cls.description
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str  # the dataclass field
    key: str  # its key on the wire
    kind: Kind
    required: bool


_FIELDS: dict[type[Body], tuple[_Field, ...]] = {}  # each body's fields, read once


def _fields(cls: type[Body]) -> tuple[_Field, ...]:
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _declared_fields(cls)
    return known


def _declared_fields(cls: type[Body]) -> tuple[_Field, ...]:
    hints = get_type_hints(cls, include_extras=True)
    out = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[field.name]
        kinds = [m for m in get_args(hint)[1:] if isinstance(m, Kind)]
        if get_origin(hint) is not Annotated or len(kinds) != 1:
            raise TypeError(f"{cls.__name__}.{field.name} needs one Kind in Annotated[…]")
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        out.append(_Field(field.name, _camel(field.name), kinds[0], required))
    return tuple(out)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description} if description else schema
