"""The compact `dump()` of a table and its inverse, `restore`.

A dump keeps the table (seats as `[seat, playerId, name, stack]`, button, hand number, status, next
hand time) and the current hand as its replay log (`Hand.log_json`): dealt seats, hole cards in
dealing order, board, decisions as `f`/`c`/`r<to>`. `restore` feeds that log back into a fresh
pokerkit state, so nothing pokerkit-internal is ever stored. Absent keys mean "none" to keep
snapshots small; keys are short for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rejoin_server.games.base import GameStatus, JsonDict
from rejoin_server.games.poker.hand import Hand
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH

if TYPE_CHECKING:
    from rejoin_server.games.poker.table import PokerTable

VERSION = 1
_STATUS: dict[GameStatus, str] = {"waiting": "w", "playing": "p", "completed": "c"}
_STATUS_BACK: dict[str, GameStatus] = {code: status for status, code in _STATUS.items()}


def dump_table(table: PokerTable) -> JsonDict:
    out: JsonDict = {
        "v": VERSION,
        "q": table.seq,
        "st": _STATUS[table.status],
        "n": table.hand_number,
        "p": [[n, s.player_id, s.name, s.stack] for n, s in sorted(table.seats.items())],
    }
    if table.button is not None:
        out["btn"] = table.button
    if table.next_hand_at is not None:
        out["na"] = table.next_hand_at
    hand = table.hand
    if hand is not None:
        log = hand.log_json()
        if table.hand_over:
            # Table stacks moved on at hand_ended; the replay needs the ones the hand began with.
            log["k"] = list(hand.starting_stacks)
            log["e"] = 1
        if table.action_deadline is not None:
            log["d"] = table.action_deadline
        if table.shown:
            log["w"] = list(table.shown)
        out["h"] = log
    return out


def restore(table: PokerTable, data: Mapping[str, Any]) -> None:
    """Fill a fresh `table` from `dump_table` output; ValueError if `data` is not such a dump."""
    try:
        _restore(table, data)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a valid poker table dump: {exc!r}") from exc


def _restore(table: PokerTable, data: Mapping[str, Any]) -> None:
    if data["v"] != VERSION:
        raise ValueError(f"dump version {data['v']!r} is not {VERSION}")
    table.set_position(_int(data["q"]), _STATUS_BACK[data["st"]])
    table.hand_number = _int(data["n"])
    for number, player_id, name, stack in data["p"]:
        if not (isinstance(player_id, str) and isinstance(name, str)):
            raise ValueError(f"seat {number!r} has a malformed player")
        if not 0 <= _int(number) < table.settings.seats or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"seat {number!r} is out of range or its name too long")
        table.sit(number, player_id, name, _int(stack))
    table.button = _optional_int(data.get("btn"))
    table.next_hand_at = _optional_int(data.get("na"))
    log = data.get("h")
    if log is None:
        return
    seats = [_int(seat) for seat in log["s"]]
    over = log.get("e") == 1
    stacks = [_int(s) for s in log["k"]] if over else [table.seats[s].stack for s in seats]
    table.hand = Hand.replay(
        seats,
        stacks,
        table.settings.small_blind,
        table.settings.big_blind,
        hole=_str(log["c"]),
        board=_str(log.get("b", "")),
        decisions=_str(log.get("a", "")),
    )
    table.hand_over = over
    table.action_deadline = _optional_int(log.get("d"))
    table.shown = [_int(seat) for seat in log.get("w", [])]


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)
