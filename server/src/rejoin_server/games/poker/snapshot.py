"""The compact `dump()` of a table and its inverse, `restore_table`.

A dump keeps the table (seats as `[seat, playerId, name, stack]`, button, hand number, status, next
hand time) and under `h` the hand on the table:

- a hand being played, as its replay log (`Hand.log_json`): dealt seats, hole cards in dealing
  order, board, decisions as `f`/`c`/`r<to>`. `restore_table` feeds that log back into a fresh pokerkit
  state, so nothing pokerkit-internal is ever stored;
- a hand that has ended (`e: 1`), as the plain data the table still shows until the next hand
  starts (`EndedHand`): dealt seats, their hole cards in that order, board, folded seats. Nothing
  is left to play, so `restore_table` rebuilds it without pokerkit.

Both carry the seats shown at showdown (`w`). A game abandoned mid-hand (status `c`) keeps the
hand being played, without a deadline (`d`). Absent keys mean "none" to keep snapshots small; keys
are short for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import GameStatus, JsonDict
from rejoin_server.games.poker import cards as _cards
from rejoin_server.games.poker.hand import EndedHand, Hand
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH
from rejoin_server.games.poker.state import TableState

VERSION = 1
_STATUS: dict[GameStatus, str] = {"waiting": "w", "playing": "p", "completed": "c"}
_STATUS_BACK: dict[str, GameStatus] = {code: status for status, code in _STATUS.items()}
_BOARD_SIZES = (0, 3, 4, 5)


def dump_table(table: TableState) -> JsonDict:
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
    log: JsonDict | None = None
    if table.hand is not None:
        log = table.hand.log_json()
        if table.action_deadline is not None:
            log["d"] = table.action_deadline
    elif table.last_hand is not None:
        log = _ended_json(table.last_hand)
    if log is not None:
        if table.shown:
            log["w"] = list(table.shown)
        out["h"] = log
    return out


def _ended_json(hand: EndedHand) -> JsonDict:
    out: JsonDict = {
        "s": list(hand.seats),
        "c": "".join("".join(hand.hole[seat]) for seat in hand.seats),
        "e": 1,
    }
    if hand.board:
        out["b"] = "".join(hand.board)
    if hand.folded:
        out["f"] = sorted(hand.folded)
    return out


def restore_table(table: TableState, data: Mapping[str, Any]) -> None:
    """Fill a fresh `table` from `dump_table` output; ValueError if `data` is not such a dump."""
    try:
        _restore(table, data)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a valid poker table dump: {exc!r}") from exc


def _restore(table: TableState, data: Mapping[str, Any]) -> None:
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
    if not set(seats) <= set(table.seats):
        raise ValueError(f"the hand deals seats {seats} that nobody sits at")
    shown = [_int(seat) for seat in log.get("w", [])]
    if len(set(shown)) != len(shown) or not set(shown) <= set(seats):
        raise ValueError(f"shown seats {shown} are not distinct seats of the hand")
    if log.get("e") != 1:
        table.hand = _replay(table, seats, [table.seats[s].stack for s in seats], log)
        table.action_deadline = _optional_int(log.get("d"))
    else:
        table.last_hand = _ended_hand(seats, log)
    table.shown = shown


def _replay(table: TableState, seats: list[int], stacks: list[int], log: Mapping[str, Any]) -> Hand:
    return Hand.replay(
        seats,
        stacks,
        table.settings.small_blind,
        table.settings.big_blind,
        hole=_str(log["c"]),
        board=_str(log.get("b", "")),
        decisions=_str(log.get("a", "")),
    )


def _ended_hand(seats: list[int], log: Mapping[str, Any]) -> EndedHand:
    if len(seats) < 2 or len(set(seats)) != len(seats):
        raise ValueError(f"an ended hand needs >= 2 distinct seats, not {seats}")
    hole = _cards.split(_str(log["c"]))
    board = _cards.split(_str(log.get("b", "")))
    if len(hole) != 2 * len(seats) or len(board) not in _BOARD_SIZES:
        raise ValueError(f"{len(hole)} hole and {len(board)} board cards for {len(seats)} seats")
    _cards.check(hole + board)  # no card twice
    folded = frozenset(_int(seat) for seat in log.get("f", []))
    if not folded < set(seats):
        raise ValueError(f"folded seats {sorted(folded)} are not some of the hand's {seats}")
    return EndedHand(
        seats=tuple(seats),
        hole={seat: (hole[2 * i], hole[2 * i + 1]) for i, seat in enumerate(seats)},
        board=tuple(board),
        folded=folded,
    )


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
