"""The rule for a name other players will see (`player_name`), and the same rule as a JSON Schema
pattern for the OpenAPI document (`name_pattern`), built from one definition of what is hidden."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from functools import cache

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError

# What a name shown to other players may not hold: controls (Cc), format characters (Cf: bidi
# overrides that reverse the text around them, zero-width spaces, the BOM), line and paragraph
# separators (Zl, Zp) and lone surrogates (Cs). ZWJ and ZWNJ are format characters too, but emoji
# sequences and several scripts (Persian, the Indic ones) need them inside a word.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_JOINERS = frozenset({"\u200c", "\u200d"})


def player_name(value: object, key: str, *, max_length: int) -> str:
    """`value`, the body's `key`, as a name other players will see: a string of at most
    `max_length` characters, with no control or format characters (ZWJ and ZWNJ aside), and
    something visible once spaces and joiners are taken out. The game may have a rule of its own
    on top (poker: 1 to 32)."""
    if not isinstance(value, str):
        raise _invalid(f"`{key}` is required: the name to show at the table, as a string.")
    if len(value) > max_length:
        raise _invalid(f"`{key}` must be at most {max_length} characters; choose a shorter name.")
    hidden = next((c for c in value if _is_hidden(c)), None)
    if hidden is not None:
        raise _invalid(
            f"`{key}` must not contain control or invisible formatting characters "
            f"(it has U+{ord(hidden):04X}); remove them and send the name as it should be shown."
        )
    if all(_is_blank(c) for c in value):
        raise _invalid(
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


def _invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REQUEST, message)
