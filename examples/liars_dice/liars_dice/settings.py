"""The settings of one Liar's Dice game: the camelCase keys of `POST /api/games`, checked and
completed with their defaults, and their JSON Schema (`GET /api/games/kinds`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rejoin_server.games import GameRuleError, JsonDict

MAX_NAME_LENGTH = 32
# Beyond this a float no longer spells each integer exactly.
_EXACT = 2**53


@dataclass(frozen=True, slots=True)
class Bound:
    low: int
    high: int
    default: int
    description: str


# Every setting is a whole number; the order is the order of the schema and of the messages.
BOUNDS: dict[str, Bound] = {
    "seats": Bound(2, 6, 4, "Seats at the table."),
    "dice": Bound(1, 10, 5, "Dice each player starts with."),
    "actionTimeoutMs": Bound(
        1_000, 24 * 60 * 60 * 1000, 30_000, "How long the player to act has before the clock plays."
    ),
    "nextRoundDelayMs": Bound(
        0, 60 * 60 * 1000, 3_000, "The pause after a challenge before the next round."
    ),
}


@dataclass(frozen=True, slots=True)
class DiceSettings:
    seats: int = BOUNDS["seats"].default
    dice: int = BOUNDS["dice"].default
    action_timeout_ms: int = BOUNDS["actionTimeoutMs"].default
    next_round_delay_ms: int = BOUNDS["nextRoundDelayMs"].default

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> DiceSettings:
        """Settings from camelCase keys, absent ones at their defaults. Raises
        `GameRuleError("invalid_request", …)` naming the key and its bound."""
        raw = dict(raw or {})
        unknown = sorted(set(raw) - set(BOUNDS))
        if unknown:
            raise _invalid(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(BOUNDS)}")
        values: dict[str, int] = {}
        for key, bound in BOUNDS.items():
            value = whole_number(raw.get(key, bound.default))
            if value is None or not bound.low <= value <= bound.high:
                raise _invalid(
                    f"{key} must be a whole number from {bound.low} to {bound.high}, "
                    f"not {raw.get(key)!r}"
                )
            values[key] = value
        return cls(
            seats=values["seats"],
            dice=values["dice"],
            action_timeout_ms=values["actionTimeoutMs"],
            next_round_delay_ms=values["nextRoundDelayMs"],
        )

    def to_json(self) -> JsonDict:
        return {
            "seats": self.seats,
            "dice": self.dice,
            "actionTimeoutMs": self.action_timeout_ms,
            "nextRoundDelayMs": self.next_round_delay_ms,
        }


def settings_schema() -> JsonDict:
    return {
        "type": "object",
        "properties": {
            key: {
                "type": "integer",
                "minimum": bound.low,
                "maximum": bound.high,
                "default": bound.default,
                "description": bound.description,
            }
            for key, bound in BOUNDS.items()
        },
        "additionalProperties": False,
        "description": "Every setting may be left out for its default; an empty body is {}.",
    }


def whole_number(value: object) -> int | None:
    """`value` as an int when JSON would call it an integer (`3` or `3.0`: a client's JSON library
    may write either), else None. Booleans are not numbers here, nor are fractions."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    return None


def _invalid(message: str) -> GameRuleError:
    return GameRuleError("invalid_request", f"Invalid game settings: {message}.")
