"""Reading request bodies: bounded in size, a JSON object, fields of the right type; and the rule
for a player's name (`player_name`, and `name_pattern` for the OpenAPI document).

Every refusal is `invalid_request` with a message naming the field and what it must be. Booleans
are not accepted where integers are (JSON `true` is not a seat number).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
from starlette.requests import Request

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.json_numbers import whole_number

GAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what a game id can be; anything else is not found
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIGITS = re.compile(r"^[0-9]{1,15}$")  # ASCII only: str.isdigit() accepts "²", int() does not

# What a name shown to other players may not hold: controls (Cc), format characters (Cf: bidi
# overrides that reverse the text around them, zero-width spaces, the BOM), line and paragraph
# separators (Zl, Zp) and lone surrogates (Cs). ZWJ and ZWNJ are format characters too, but emoji
# sequences and several scripts (Persian, the Indic ones) need them inside a word.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_JOINERS = frozenset({"\u200c", "\u200d"})


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)


async def read_object(request: Request, limit: int, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object. An empty body is `{}` when `optional`."""
    declared = request.headers.get("content-length")
    if declared is not None and _DIGITS.fullmatch(declared) and int(declared) > limit:
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
    """An optional integer field (`2` or `2.0`: see `json_numbers`); null is left out."""
    value = body.get(key)
    if value is None:
        return None
    number = whole_number(value)
    if number is None:
        raise invalid(f"`{key}` must be an integer.")
    if not low <= number <= high:
        raise invalid(f"`{key}` must be between {low} and {high}.")
    return number


def boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise invalid(f"`{key}` must be true or false.")
    return value


def player_name(body: dict[str, Any], key: str, *, max_length: int) -> str:
    """A name other players will see: a string of at most `max_length` characters, with no
    control or format characters (ZWJ and ZWNJ aside), and something visible once spaces and
    joiners are taken out. The game may have a rule of its own on top (poker: 1 to 32)."""
    value = body.get(key)
    if not isinstance(value, str):
        raise invalid(f"`{key}` is required: the name to show at the table, as a string.")
    if len(value) > max_length:
        raise invalid(f"`{key}` must be at most {max_length} characters; choose a shorter name.")
    hidden = next((c for c in value if _is_hidden(c)), None)
    if hidden is not None:
        raise invalid(
            f"`{key}` must not contain control or invisible formatting characters "
            f"(it has U+{ord(hidden):04X}); remove them and send the name as it should be shown."
        )
    if all(_is_blank(c) for c in value):
        raise invalid(
            f"`{key}` must have a visible character, not only spaces or zero-width joiners; "
            "choose a name others can read."
        )
    return value


def _is_hidden(char: str) -> bool:
    return char not in _JOINERS and unicodedata.category(char) in _HIDDEN_CATEGORIES


def _is_blank(char: str) -> bool:
    return char in _JOINERS or char.isspace() or _is_hidden(char)


@cache
def name_pattern() -> str:
    """`player_name`'s character rule as a JSON Schema pattern (ECMA-262 with the `u` flag; Python
    reads it alike, but for `$` also matching before a final newline): allowed characters around
    at least one visible one. Built from this Python's Unicode tables, so it says what this server
    accepts. Scans every code point (a third of a second), once, when the OpenAPI document is
    built.

    Lone surrogates are left out: JSON bodies cannot carry them (the parser refuses them), and
    validators built on Rust's regex (jsonschema-rs) reject a pattern that names them."""
    hidden: list[int] = []
    blank: list[int] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        if _is_hidden(char):
            hidden.append(cp)
            blank.append(cp)
        elif _is_blank(char):
            blank.append(cp)
    return f"^[^{_char_class(hidden)}]*[^{_char_class(blank)}][^{_char_class(hidden)}]*$"


def _char_class(code_points: list[int]) -> str:
    return "".join(
        _escape(low) if low == high else f"{_escape(low)}-{_escape(high)}"
        for low, high in _runs(code_points)
    )


def _runs(code_points: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted code points as (first, last) runs of consecutive ones."""
    low = high = -2
    for cp in code_points:
        if cp != high + 1:
            if low >= 0:
                yield low, high
            low = cp
        high = cp
    if low >= 0:
        yield low, high


def _escape(cp: int) -> str:
    # `\uXXXX` reads the same in both dialects; beyond the BMP only the character itself does
    # (Python writes `\U0001XXXX`, ECMA-262 `\u{1XXXX}`).
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)


def query_int(request: Request, key: str) -> int | None:
    """An optional non-negative integer in the query string, given at most once: `?after=` with
    nothing, or `?after=1&after=2`, is a client bug, not "no value" nor the last one."""
    given = request.query_params.getlist(key)
    if not given:
        return None
    if len(given) > 1:
        raise invalid(f"`{key}` must be given once, not {len(given)} times.")
    if not _DIGITS.fullmatch(given[0]):
        raise invalid(f"`{key}` must be a non-negative integer of at most 15 digits.")
    return int(given[0])


def is_seq(text: str) -> bool:
    """True for a plain ASCII number of at most 15 digits."""
    return bool(_DIGITS.fullmatch(text))
