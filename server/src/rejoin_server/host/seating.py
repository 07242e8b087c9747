"""Who may still sit down at a game, for the lobby (`GET /api/games/open`) and the table page's
look before joining (`GET /api/game/{gameId}`).

Any kind of game: the number of seats is its `seats` setting (poker, Liar's Dice and most games
have one), the seats taken are those of the spectator's view (`view(None)`: its `seats` list, or
`players`, each entry with an integer `seat`, and a `playerId` that is not null when it has one).
So nothing here is private: it is what anyone watching the table would see. A kind without a
`seats` setting has an unknown number of seats, and is never listed as open (nobody can tell
whether a seat is free); its page still works with its link.

A game is open (listed in the lobby) while a seat is free and a join would be taken: while it is
`waiting`, and while `playing` only for a kind whose engine says it takes players then
(`joins_while_playing`, e.g. poker between hands; Liar's Dice refuses them with `game_active`).

Once the game is completed, the seating also keeps the spectator's final view (`final`): the
result (poker: every seat's chips), shown to whoever opens the table's link afterwards. Without
player ids (every `playerId` key is left out, at any depth): with player login a player id is the
login's subject, and a link is all it takes to read this.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import orjson

from rejoin_server.games.base import GameState
from rejoin_server.store.base import Seating

__all__ = ["MAX_SEATS", "free_seats", "seating_of", "table_size", "taken_seats"]

log = logging.getLogger(__name__)

# Beyond this a `seats` setting is not a table's size to list seat by seat.
MAX_SEATS: Final = 100
# A final view larger than this is not kept with the row (the result is then the status alone).
MAX_FINAL_BYTES: Final = 32_000
_SEAT_LISTS: Final = ("seats", "players")


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def table_size(settings: Mapping[str, Any]) -> int | None:
    """The game's number of seats (its `seats` setting), None when it has no such setting."""
    seats = _number(settings.get("seats"))
    return seats if seats is not None and 0 < seats <= MAX_SEATS else None


def taken_seats(view: Mapping[str, Any]) -> list[int]:
    """The seats someone sits at in `view`, in order."""
    for key in _SEAT_LISTS:
        entries = view.get(key)
        if isinstance(entries, list):
            break
    else:
        return []
    taken = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        seat = _number(entry.get("seat"))
        if seat is not None and ("playerId" not in entry or entry["playerId"] is not None):
            taken.add(seat)
    return sorted(taken)


def free_seats(data: Mapping[str, Any]) -> list[int] | None:
    """The free seats of a stored seating, 0-based, None when its number of seats is unknown."""
    seats = _number(data.get("seats"))
    taken = data.get("taken")
    if seats is None or not isinstance(taken, list):
        return None
    return [seat for seat in range(seats) if seat not in taken]


def _without_player_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_player_ids(v) for k, v in value.items() if k != "playerId"}
    if isinstance(value, list):
        return [_without_player_ids(item) for item in value]
    return value


def seating_of(
    state: GameState, settings: Mapping[str, Any], *, joins_while_playing: bool
) -> Seating | None:
    """`state`'s seating; None when the game's view fails or is not JSON (a bug of the game,
    logged: the stored seating then stays as it was). `joins_while_playing`: the engine's
    attribute (`GameKinds.joins_while_playing`)."""
    try:
        view = state.view(None)
        data: dict[str, Any] = {"seats": table_size(settings), "taken": taken_seats(view)}
        completed = state.status == "completed"
        final = _without_player_ids(view) if completed else None
        if final is not None and len(orjson.dumps(final)) <= MAX_FINAL_BYTES:
            data["final"] = final
    except Exception as exc:  # the game's own code
        log.error("game %s: no seating, its view(None) failed: %r", state.game_id, exc)
        return None
    free = free_seats(data)
    takes_players = state.status == "waiting" or (state.status == "playing" and joins_while_playing)
    return Seating(data, open=takes_players and bool(free))
