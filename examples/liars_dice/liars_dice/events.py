"""The Liar's Dice event kinds, builders for their `data`, and strict readers used when applying them.

The builders are the one place an event's shape is written (README.md lists them). Readers raise
ValueError naming the field, which `apply` reports as a malformed event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from liars_dice.state import FACES, Bid, Challenge
from rejoin_server.games import JsonDict

PLAYER_JOINED = "player_joined"
ROUND_STARTED = "round_started"
DICE_ROLLED = "dice_rolled"  # private: only the player who rolled sees the dice
BID = "bid"
TIMEOUT = "timeout"
CHALLENGED = "challenged"
GAME_COMPLETED = "game_completed"

MAX_REASON_LENGTH = 64


def player_joined(seat: int, player_id: str, name: str, dice: int) -> JsonDict:
    return {"seat": seat, "playerId": player_id, "name": name, "dice": dice}


def round_started(number: int, seats: Sequence[int]) -> JsonDict:
    """`seats`: the seats with dice, in the order they play this round (the starter first)."""
    return {"round": number, "seats": list(seats)}


def dice_rolled(seat: int, player_id: str, dice: Sequence[int] | None) -> JsonDict:
    """`playerId` too: dice are private to a player (`dice` is None for everybody else)."""
    return {"seat": seat, "playerId": player_id, "dice": None if dice is None else list(dice)}


def bid(value: Bid) -> JsonDict:
    return value.to_json()


def timeout(seat: int, action: str) -> JsonDict:
    """The clock ran out on `seat`; the move it plays for them (`action`) is the next event."""
    return {"seat": seat, "action": action}


def challenged(number: int, challenge: Challenge, reveal: Mapping[int, Sequence[int]]) -> JsonDict:
    """`seat` challenged the `bid`: every die of the round is shown (`reveal`, in seat order),
    `matching` of them show its face, and `loser` loses a die. Ends round `number`."""
    return {
        "round": number,
        **challenge.to_json(),
        "reveal": [{"seat": s, "dice": list(reveal[s])} for s in sorted(reveal)],
    }


def game_completed(seat: int, player_id: str) -> JsonDict:
    """The last player with dice: the winner."""
    return {"seat": seat, "playerId": player_id}


def game_abandoned(reason: str) -> JsonDict:
    """Completed without a winner (an `Abandon`); a `reason` key marks this form."""
    return {"reason": reason}


# Readers.


def read_int(data: Mapping[str, Any], key: str, low: int = 0, high: int | None = None) -> int:
    value = data.get(key)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"field {key!r} must be an integer {bound}, not {value!r}")
    return value


def read_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, not {value!r}")
    return value


def read_seats(data: Mapping[str, Any], key: str) -> list[int]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"field {key!r} must be a list of seats, not {value!r}")
    return [read_int({key: seat}, key) for seat in value]


def read_dice(value: object, key: str = "dice") -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ValueError(f"field {key!r} must be a list of dice, not {value!r}")
    return tuple(read_int({key: die}, key, 1, FACES) for die in value)


def read_bid(data: Mapping[str, Any], key: str) -> Bid:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"field {key!r} must be a bid object, not {value!r}")
    return Bid(
        read_int(value, "seat"), read_int(value, "count", 1), read_int(value, "face", 1, FACES)
    )


def read_reveal(data: Mapping[str, Any], key: str) -> dict[int, tuple[int, ...]]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"field {key!r} must be a list of {{seat, dice}}, not {value!r}")
    out = {read_int(item, "seat"): read_dice(item.get("dice")) for item in value}
    if len(out) != len(value):
        raise ValueError(f"field {key!r} shows a seat twice")
    return out
