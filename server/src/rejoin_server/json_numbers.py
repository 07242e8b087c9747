"""Integers as JSON carries them: `2` and `2.0` are the same number.

JSON does not tell them apart, nor does JSON Schema (its `integer` is any number with no fraction),
and a client's JSON library may write either; so every body field that takes an integer takes
both. Booleans are not numbers here (`true` is not a seat), and neither are fractions.
"""

from __future__ import annotations

# Beyond this a float no longer spells each integer exactly.
_EXACT = 2**53


def whole_number(value: object) -> int | None:
    """`value` as an int when it is a JSON integer (`2` or `2.0`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    return None
