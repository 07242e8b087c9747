"""The settings of one poker table: parsing and validating the camelCase keys of `POST /api/games`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
class TableLimits:
    """What this server lets a *new* table ask for (the operator's `--min-action-timeout`,
    `--min-next-hand-delay`, `--max-starting-stack`). Tables already stored load with the wider
    bounds of `PokerSettings.parse`, so tightening a limit never makes a stored game unloadable.
    The defaults are `ServerSettings`'."""

    min_action_timeout_ms: int
    min_next_hand_delay_ms: int
    max_starting_stack: int


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
        defaults = cls()
        seats = _int(raw, "seats", defaults.seats, MIN_SEATS, MAX_SEATS)
        small_blind = _int(raw, "smallBlind", defaults.small_blind, 1, MAX_CHIPS)
        big_blind = _int(raw, "bigBlind", defaults.big_blind, small_blind, MAX_CHIPS)
        starting_stack = _int(raw, "startingStack", defaults.starting_stack, big_blind, MAX_CHIPS)
        action_timeout_ms = _int(
            raw, "actionTimeoutMs", defaults.action_timeout_ms, 0, MAX_ACTION_TIMEOUT_MS
        )
        next_hand_delay_ms = _int(
            raw, "nextHandDelayMs", defaults.next_hand_delay_ms, 0, MAX_NEXT_HAND_DELAY_MS
        )
        auto_next_hand = raw.get("autoNextHand", defaults.auto_next_hand)
        if not isinstance(auto_next_hand, bool):
            raise _invalid("autoNextHand must be true or false")
        return cls(
            seats=seats,
            small_blind=small_blind,
            big_blind=big_blind,
            starting_stack=starting_stack,
            action_timeout_ms=action_timeout_ms,
            auto_next_hand=auto_next_hand,
            next_hand_delay_ms=next_hand_delay_ms,
        )

    def check_limits(self, limits: TableLimits) -> None:
        """Raises `GameRuleError('invalid_request', …)` naming the first setting that is out of
        this server's bounds for a new table, and the bound."""
        if self.action_timeout_ms < limits.min_action_timeout_ms:
            raise _invalid(
                f"actionTimeoutMs must be at least {limits.min_action_timeout_ms} on this server, "
                f"not {self.action_timeout_ms}"
            )
        if self.next_hand_delay_ms < limits.min_next_hand_delay_ms:
            raise _invalid(
                f"nextHandDelayMs must be at least {limits.min_next_hand_delay_ms} on this server, "
                f"not {self.next_hand_delay_ms}"
            )
        if self.starting_stack > limits.max_starting_stack:
            raise _invalid(
                f"startingStack must be at most {limits.max_starting_stack} on this server, "
                f"not {self.starting_stack}"
            )

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
