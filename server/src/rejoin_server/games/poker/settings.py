"""The settings of one poker table: parsing and validating the camelCase keys of `POST /api/games`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rejoin_server.games.base import GameRuleError, JsonDict
from rejoin_server.json_numbers import whole_number

MIN_SEATS = 2
MAX_SEATS = 9
# Chip amounts stay far below 2**53 so that every JSON reader (JavaScript included) keeps them exact.
MAX_CHIPS = 1_000_000_000
MAX_ACTION_TIMEOUT_MS = 24 * 60 * 60 * 1000
MAX_NEXT_HAND_DELAY_MS = 60 * 60 * 1000
MAX_NAME_LENGTH = 32


@dataclass(frozen=True, slots=True)
class Bound:
    """The range of a whole-number setting; `at_least`: the setting it may not be below; `limit`:
    the operator's flag that narrowed it, for a new table."""

    low: int
    high: int
    at_least: str | None = None
    limit: str | None = None


# The whole-number settings by key, in the order `parse` reads them: what a table's settings may
# hold, and (through `TableLimits.bounds`) what `POST /api/games` documents.
BOUNDS: dict[str, Bound] = {
    "seats": Bound(MIN_SEATS, MAX_SEATS),
    "smallBlind": Bound(1, MAX_CHIPS),
    "bigBlind": Bound(1, MAX_CHIPS, at_least="smallBlind"),
    "startingStack": Bound(1, MAX_CHIPS, at_least="bigBlind"),
    "actionTimeoutMs": Bound(0, MAX_ACTION_TIMEOUT_MS),
    "nextHandDelayMs": Bound(0, MAX_NEXT_HAND_DELAY_MS),
}


@dataclass(frozen=True, slots=True)
class TableLimits:
    """What this server lets a *new* table ask for (the operator's `--min-action-timeout`,
    `--min-next-hand-delay`, `--max-starting-stack`). Tables already stored load with the wider
    bounds of `PokerSettings.parse`, so tightening a limit never makes a stored game unloadable.
    The defaults are `ServerSettings`'."""

    min_action_timeout_ms: int
    min_next_hand_delay_ms: int
    max_starting_stack: int

    @classmethod
    def widest(cls) -> TableLimits:
        """No limit but the game's own (`BOUNDS`)."""
        return cls(0, 0, BOUNDS["startingStack"].high)

    def bounds(self) -> dict[str, Bound]:
        """`BOUNDS` narrowed to this server's limits."""
        narrowed = dict(BOUNDS)
        for key, low, flag in (
            ("actionTimeoutMs", self.min_action_timeout_ms, "--min-action-timeout"),
            ("nextHandDelayMs", self.min_next_hand_delay_ms, "--min-next-hand-delay"),
        ):
            narrowed[key] = replace(BOUNDS[key], low=max(BOUNDS[key].low, low), limit=flag)
        stack = BOUNDS["startingStack"]
        narrowed["startingStack"] = replace(
            stack, high=min(stack.high, self.max_starting_stack), limit="--max-starting-stack"
        )
        return narrowed


@dataclass(frozen=True, slots=True)
class PokerSettings:
    seats: int = 6
    small_blind: int = 1
    big_blind: int = 2
    starting_stack: int = 200
    action_timeout_ms: int = 30_000
    auto_next_hand: bool = True
    next_hand_delay_ms: int = 3_000

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> PokerSettings:
        """Settings from camelCase keys; absent keys take their defaults.

        Raises `GameRuleError('invalid_request', …)` naming the key to fix.
        """
        raw = dict(raw or {})
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise _invalid(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}")
        defaults = cls().to_json()
        numbers: dict[str, int] = {}
        for key, bound in BOUNDS.items():
            low = bound.low if bound.at_least is None else numbers[bound.at_least]
            numbers[key] = _int(raw, key, defaults[key], low, bound.high)
        auto_next_hand = raw.get("autoNextHand", defaults["autoNextHand"])
        if not isinstance(auto_next_hand, bool):
            raise _invalid("autoNextHand must be true or false")
        return cls(
            seats=numbers["seats"],
            small_blind=numbers["smallBlind"],
            big_blind=numbers["bigBlind"],
            starting_stack=numbers["startingStack"],
            action_timeout_ms=numbers["actionTimeoutMs"],
            auto_next_hand=auto_next_hand,
            next_hand_delay_ms=numbers["nextHandDelayMs"],
        )

    def check_limits(self, limits: TableLimits) -> None:
        """Raises `GameRuleError('invalid_request', …)` naming the first setting that is out of
        this server's bounds for a new table (`limits.bounds()`), and the bound."""
        values = self.to_json()
        for key, bound in limits.bounds().items():
            value = values[key]
            if value < bound.low:
                raise _invalid(f"{key} must be at least {bound.low} on this server, not {value}")
            if value > bound.high:
                raise _invalid(f"{key} must be at most {bound.high} on this server, not {value}")

    def to_json(self) -> JsonDict:
        return {
            "seats": self.seats,
            "smallBlind": self.small_blind,
            "bigBlind": self.big_blind,
            "startingStack": self.starting_stack,
            "actionTimeoutMs": self.action_timeout_ms,
            "autoNextHand": self.auto_next_hand,
            "nextHandDelayMs": self.next_hand_delay_ms,
        }


_KEYS = tuple(PokerSettings().to_json())


def settings_schema(limits: TableLimits) -> JsonDict:
    """The JSON Schema of a new table's settings (the body of `POST /api/games`): `BOUNDS` within
    `limits`, the one flag, and no other key. A rule between two settings is in the description,
    as JSON Schema cannot state it."""
    properties: JsonDict = {}
    for key, bound in limits.bounds().items():
        schema: JsonDict = {"type": "integer", "minimum": bound.low, "maximum": bound.high}
        notes = [f"At least `{bound.at_least}`."] if bound.at_least else []
        if bound.limit:
            notes.append(f"Within this server's {bound.limit}.")
        if notes:
            schema["description"] = " ".join(notes)
        properties[key] = schema
    properties["autoNextHand"] = {"type": "boolean"}
    return {
        "type": "object",
        "properties": {key: properties[key] for key in _KEYS},
        "additionalProperties": False,
        "description": "Every setting may be left out for its default; an empty body is {}.",
    }


def _invalid(message: str) -> GameRuleError:
    return GameRuleError("invalid_request", f"Invalid game settings: {message}.")


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    # `true` for a number is a client bug worth reporting; `6.0` is JSON's 6 (`json_numbers`).
    value = whole_number(raw.get(key, default))
    if value is None:
        raise _invalid(f"{key} must be a whole number between {low} and {high}")
    if not low <= value <= high:
        raise _invalid(f"{key} must be between {low} and {high}, not {value}")
    return value
