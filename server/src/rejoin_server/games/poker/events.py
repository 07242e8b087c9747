"""The poker event kinds, builders for their `data`, and strict readers used when applying them.

Builders are the only place an event's shape is written down, so the table, the tests and the
docs/protocol.md list agree. Readers raise ValueError with the field name, which `apply` reports as a
malformed event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rejoin_protocol import messages
from rejoin_server.games.base import JsonDict
from rejoin_server.games.poker import cards as _cards

PLAYER_JOINED = "player_joined"
HAND_STARTED = "hand_started"
BLIND_POSTED = "blind_posted"
HOLE_CARDS = "hole_cards"
ACTION = "action"
TIMEOUT = "timeout"
STREET = "street"
SHOWDOWN = "showdown"
POT_AWARDED = "pot_awarded"
HAND_ENDED = "hand_ended"
GAME_COMPLETED = "game_completed"
# Written by the host when an operator rolls a game back; the state it follows is already restored.
SNAPSHOT_RESTORED = "snapshot_restored"

# An `action` event's types are the protocol's (what a client may send): one list for both.
ACTION_TYPES: tuple[str, ...] = messages.ACTION_TYPES
STREET_NAMES = {3: "flop", 4: "turn", 5: "river"}
# The longest `reason` of a `game_completed` without a winner.
MAX_REASON_LENGTH = 64


def player_joined(seat: int, player_id: str, name: str, stack: int) -> JsonDict:
    return {"seat": seat, "playerId": player_id, "name": name, "stack": stack}


def hand_started(hand_number: int, button: int, seats: Sequence[int], sb: int, bb: int) -> JsonDict:
    """`seats` in pokerkit's order (first to the button's left … the button); `sb`/`bb` are seats."""
    return {"handNumber": hand_number, "button": button, "seats": list(seats), "sb": sb, "bb": bb}


def blind_posted(seat: int, blind: str, amount: int) -> JsonDict:
    return {"seat": seat, "blind": blind, "amount": amount}


def hole_cards(seat: int, player_id: str, cards: Sequence[str] | None) -> JsonDict:
    """`playerId` too: cards are private to a player, and a seat may change hands later."""
    return {"seat": seat, "playerId": player_id, "cards": None if cards is None else list(cards)}


def action(seat: int, type_: str, amount: int) -> JsonDict:
    """`amount`: chips added for call, total bet for bet/raise/allin, 0 for fold/check."""
    return {"seat": seat, "type": type_, "amount": amount}


def timeout(seat: int, action_: str) -> JsonDict:
    return {"seat": seat, "action": action_}


def street(cards: Sequence[str], board_size: int) -> JsonDict:
    return {"street": STREET_NAMES[board_size], "cards": list(cards)}


def showdown(hands: Sequence[tuple[int, Sequence[str], str]]) -> JsonDict:
    return {
        "hands": [
            {"seat": seat, "cards": list(cards), "hand": description}
            for seat, cards, description in hands
        ]
    }


def pot_awarded(amount: int, seats: Sequence[int], winners: Sequence[tuple[int, int]]) -> JsonDict:
    return {
        "amount": amount,
        "seats": list(seats),
        "winners": [{"seat": seat, "amount": won} for seat, won in winners],
    }


def hand_ended(hand_number: int, stacks: Mapping[int, int]) -> JsonDict:
    # JSON object keys are strings; building them as strings keeps a stored event equal to a live one.
    return {
        "handNumber": hand_number,
        "stacks": {str(seat): stacks[seat] for seat in sorted(stacks)},
    }


def game_completed(seat: int, player_id: str) -> JsonDict:
    """The game ended with one player holding every chip: the winner."""
    return {"seat": seat, "playerId": player_id}


def game_abandoned(reason: str) -> JsonDict:
    """The game ended without a winner (an `Abandon` command); `reason` is e.g. "abandoned".

    The kind is still `game_completed`: a `reason` key marks this form, which the winner form has
    not (logs stored before this form existed have no such key).
    """
    return {"reason": reason}


# Readers.


def read_int(data: Mapping[str, Any], key: str, low: int = 0) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"field {key!r} must be an integer >= {low}, not {value!r}")
    return value


def read_str(data: Mapping[str, Any], key: str, choices: Sequence[str] | None = None) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = f"one of {', '.join(choices)}" if choices else "a string"
        raise ValueError(f"field {key!r} must be {expected}, not {value!r}")
    return value


def read_ints(data: Mapping[str, Any], key: str) -> list[int]:
    value = data.get(key)
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise ValueError(f"field {key!r} must be a list of integers >= 0, not {value!r}")
    return list(value)


def read_cards(data: Mapping[str, Any], key: str, count: int | None = None) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"field {key!r} must be a list of cards, not {value!r}")
    out = _cards.check(value)
    if count is not None and len(out) != count:
        raise ValueError(f"field {key!r} must hold {count} cards, not {len(out)}")
    return out


def read_stacks(data: Mapping[str, Any], key: str) -> dict[int, int]:
    """A `{seat: stack}` object, accepting the string keys JSON gives back."""
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"field {key!r} must be an object of seat -> stack, not {value!r}")
    out: dict[int, int] = {}
    for seat, stack in value.items():
        try:
            number = int(seat)
        except (TypeError, ValueError):
            raise ValueError(f"field {key!r} has a key {seat!r} that is not a seat") from None
        out[number] = read_int({"stack": stack}, "stack")
    return out


def read_list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"field {key!r} must be a list of objects, not {value!r}")
    return list(value)
