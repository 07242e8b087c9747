"""The compact `dump()` of a game and its inverse, `restore`.

Keys are short and absent keys mean "none", to keep snapshots small:

- `v` version, `q` seq, `st` status (`w`/`p`/`c`), `r` rounds started;
- `p` the players, `[seat, playerId, name, diceCount]` each;
- the round on the table: `o` its seats in playing order, `d` the dice each has rolled so far as
  digit strings in that order, `b` the bid standing `[seat, count, face]`, `a` the seat to act and
  `dl` its deadline, `x: 1` once its dice are revealed;
- `lc` the last challenge `[seat, bidSeat, count, face, matching, loser]`, `nr` when the next
  round is due, `w` the winner's seat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liars_dice.settings import MAX_NAME_LENGTH
from liars_dice.state import FACES, Bid, Challenge, DiceState, Player
from rejoin_server.games import GameStatus, JsonDict

VERSION = 1
_STATUS: dict[GameStatus, str] = {"waiting": "w", "playing": "p", "completed": "c"}
_FACE_DIGITS = frozenset("".join(str(face) for face in range(1, FACES + 1)))
_STATUS_BACK: dict[str, GameStatus] = {code: status for status, code in _STATUS.items()}


def dump_state(state: DiceState) -> JsonDict:
    out: JsonDict = {
        "v": VERSION,
        "q": state.seq,
        "st": _STATUS[state.status],
        "r": state.round,
        "p": [[n, p.player_id, p.name, p.dice_count] for n, p in sorted(state.players.items())],
    }
    if state.order:
        out["o"] = list(state.order)
        out["d"] = [
            "".join(map(str, state.rolled[seat])) for seat in state.order if seat in state.rolled
        ]
    bid = state.bid
    if bid is not None:
        out["b"] = [bid.seat, bid.count, bid.face]
    optional = {
        "a": state.to_act,
        "dl": state.action_deadline,
        "nr": state.next_round_at,
        "w": state.winner,
        "x": 1 if state.revealed else None,
    }
    out.update({key: value for key, value in optional.items() if value is not None})
    challenge = state.last_challenge
    if challenge is not None:
        called = challenge.bid
        out["lc"] = [
            challenge.seat, called.seat, called.count, called.face, challenge.matching,
            challenge.loser,
        ]  # fmt: skip
    return out


def restore(state: DiceState, data: Mapping[str, Any]) -> None:
    """Fill a fresh `state` from `dump_state` output; ValueError if `data` is not such a dump."""
    try:
        _restore(state, data)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a valid liars-dice dump: {exc!r}") from exc


def _restore(state: DiceState, data: Mapping[str, Any]) -> None:
    if data["v"] != VERSION:
        raise ValueError(f"dump version {data['v']!r} is not {VERSION}")
    state.set_position(_int(data["q"]), _STATUS_BACK[data["st"]])
    state.round = _int(data["r"])
    for number, player_id, name, dice_count in data["p"]:
        if not (isinstance(player_id, str) and player_id and isinstance(name, str)):
            raise ValueError(f"seat {number!r} has a malformed player")
        if not 0 <= _int(number) < state.settings.seats or not 0 < len(name) <= MAX_NAME_LENGTH:
            raise ValueError(f"seat {number!r} is out of range or its name is not 1 to 32 long")
        if number in state.players or not 0 <= _int(dice_count) <= state.settings.dice:
            raise ValueError(f"seat {number!r} twice, or with {dice_count!r} dice")
        state.players[number] = Player(player_id, name, dice_count)
    state.order = [_seat(state, seat) for seat in data.get("o", [])]
    rolled = data.get("d", [])
    if len(set(state.order)) != len(state.order) or len(rolled) > len(state.order):
        raise ValueError(f"round seats {state.order} with {len(rolled)} rolls")
    state.rolled = {
        seat: _dice(state, text) for seat, text in zip(state.order, rolled, strict=False)
    }
    if "b" in data:
        seat, count, face = data["b"]
        state.bid = Bid(_seat(state, seat), _int(count), _face(face))
    state.to_act = _optional_seat(state, data.get("a"))
    state.action_deadline = _optional_int(data.get("dl"))
    state.next_round_at = _optional_int(data.get("nr"))
    state.winner = _optional_seat(state, data.get("w"))
    state.revealed = data.get("x") == 1
    if "lc" in data:
        seat, bid_seat, count, face, matching, loser = data["lc"]
        called = Bid(_seat(state, bid_seat), _int(count), _face(face))
        state.last_challenge = Challenge(
            _seat(state, seat), called, _int(matching), _seat(state, loser)
        )
    if state.to_act is not None and state.to_act not in state.order:
        raise ValueError(f"seat {state.to_act} is to act but does not play the round")


def _dice(state: DiceState, text: object) -> tuple[int, ...]:
    if (
        not isinstance(text, str)
        or not 0 < len(text) <= state.settings.dice
        or not set(text) <= _FACE_DIGITS
    ):
        raise ValueError(f"{text!r} is not the dice of one player (1 to {FACES} each)")
    return tuple(int(digit) for digit in text)


def _seat(state: DiceState, value: object) -> int:
    if _int(value) not in state.players:
        raise ValueError(f"nobody sits at seat {value!r}")
    assert isinstance(value, int)
    return value


def _optional_seat(state: DiceState, value: object) -> int | None:
    return None if value is None else _seat(state, value)


def _face(value: object) -> int:
    if not 1 <= _int(value) <= FACES:
        raise ValueError(f"{value!r} is not a face")
    assert isinstance(value, int)
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)
