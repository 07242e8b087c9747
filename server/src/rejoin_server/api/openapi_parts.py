"""The building blocks of `/openapi.json` (`openapi`, `openapi_console`): the JSON Schemas every
answer is made of, the error answer, and an endpoint's declaration (`Operation`).

Apart from the table of endpoints so that each part of that table can be a module of its own
without importing another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.fields import Body, object_schema
from rejoin_server.durability import DURABILITIES

__all__ = [
    "BOOL", "DURABILITY", "ERROR", "GAME_ID", "OBJ", "SEQ", "STR", "TIME", "TRUE", "Operation",
    "RequestBody", "Schema", "declared", "integer", "schema_object",
]  # fmt: skip

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
OBJ: Schema = {"type": "object"}
TRUE: Schema = {"const": True}
TIME: Schema = {"type": "string", "format": "date-time"}
GAME_ID: Schema = {"type": "string", "pattern": bodies.GAME_ID.pattern}
SEQ: Schema = {"type": "integer", "minimum": 0}
DURABILITY: Schema = {"enum": list(DURABILITIES)}


def integer(low: int, high: int, description: str | None = None) -> Schema:
    schema: Schema = {"type": "integer", "minimum": low, "maximum": high}
    if description:
        schema["description"] = description
    return schema


def schema_object(props: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = list(required)
    return schema


ERROR = schema_object(
    {
        "success": {"const": False},
        "error": schema_object(
            {
                "code": {"enum": [c.value for c in ErrorCode]},
                "message": {"type": "string", "description": "What to do about it."},
                "details": OBJ,
            },
            ("code", "message"),
        ),
    },
    ("success", "error"),
)


@dataclass(frozen=True, slots=True)
class RequestBody:
    schema: Schema
    required: bool


def declared(body: type[Body]) -> RequestBody:
    """A body as `bodies` declares it: the endpoint reads it with the same declaration."""
    return RequestBody(object_schema(body), required=not body.may_be_empty)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    who: str
    status: int
    answer: Schema
    body: RequestBody | None = None
    security: tuple[str, ...] = ()  # alternative schemes; none: anyone may call
    parameters: tuple[Schema, ...] = ()
    rate_limited: bool = False
    description: str = ""
