"""Reading request bodies: bounded in size, a JSON object, fields of the right type.

Every refusal is `invalid_request` with a message naming the field and what it must be. Booleans
are not accepted where integers are (JSON `true` is not a seat number).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError

GAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what a game id can be; anything else is not found
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIGITS = re.compile(r"^[0-9]{1,15}$")  # ASCII only: str.isdigit() accepts "²", int() does not


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)


async def read_object(request: Request, limit: int, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object. An empty body is `{}` when `optional`."""
    declared = request.headers.get("content-length")
    if declared is not None and _DIGITS.match(declared) and int(declared) > limit:
        raise invalid(f"The request body is larger than {limit} bytes; send less.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise invalid(f"The request body is larger than {limit} bytes; send less.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if optional:
            return {}
        raise invalid("The request needs a JSON object body.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"The body is not valid JSON ({exc}); send a JSON object.") from exc
    if not isinstance(data, dict):
        raise invalid(f"The body must be a JSON object, not {type(data).__name__}.")
    return data


def string(
    body: dict[str, Any], key: str, *, required: bool = True, max_length: int = 256
) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise invalid(f"`{key}` is required (a string).")
        return None
    if not isinstance(value, str) or not value:
        raise invalid(f"`{key}` must be a non-empty string.")
    if len(value) > max_length:
        raise invalid(f"`{key}` must be at most {max_length} characters.")
    if _CONTROL.search(value):
        # PostgreSQL cannot store NUL in text, and no name or id needs control characters.
        raise invalid(f"`{key}` must not contain control characters.")
    return value


def required_string(body: dict[str, Any], key: str, *, max_length: int = 256) -> str:
    value = string(body, key, max_length=max_length)
    assert value is not None
    return value


def integer(body: dict[str, Any], key: str, *, low: int = 0, high: int = 2**53) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"`{key}` must be an integer.")
    if not low <= value <= high:
        raise invalid(f"`{key}` must be between {low} and {high}.")
    return value


def boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise invalid(f"`{key}` must be true or false.")
    return value


def query_int(request: Request, key: str) -> int | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return None
    if not _DIGITS.match(raw):
        raise invalid(f"`{key}` must be a non-negative integer.")
    return int(raw)


def is_seq(text: str) -> bool:
    """True for a plain ASCII number of at most 15 digits."""
    return bool(_DIGITS.match(text))
