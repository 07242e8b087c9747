"""`GET /api/admin/games/{gameId}`: one game's whole state, for an operator to read.

A game's `dump()` is compact (poker's is a replay log with one-letter keys, docs/games.md), which
is what a snapshot needs and nobody wants to read. This is the same state as players see it, but
with nothing hidden: the spectator's view (phase, board, pots, whose turn), each seat as its own
player sees it (hole cards included), who is connected, how far the events are stored and
snapshotted, and the newest events in full. The dump comes along for completeness.

It needs no knowledge of the game's kind beyond the `seats` list of `{seat, playerId, …}` that
the views of every kind served here share (a kind without one shows its spectator view as is).
`readable` is the game in memory; `readable_snapshot` one of its stored snapshots, opened apart
from it (`console.snapshots`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import GameState
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame
from rejoin_server.timefmt import iso_ms

# Events shown in full, the newest last.
RECENT_SHOWN = 30


def _seats_revealed(state: GameState, seats: list[Any]) -> list[Any]:
    """Each seat of the spectator's view as its own player sees it (`connected` kept)."""
    revealed = []
    for seat in seats:
        player_id = seat.get("playerId") if isinstance(seat, dict) else None
        if not isinstance(player_id, str):
            revealed.append(seat)
            continue
        own = next(
            (
                mine
                for mine in state.view(player_id).get("seats", ())
                if isinstance(mine, dict) and mine.get("playerId") == player_id
            ),
            seat,
        )
        revealed.append(
            {**own, **({"connected": seat["connected"]} if "connected" in seat else {})}
        )
    return revealed


def _table(state: GameState, spectator: dict[str, Any]) -> dict[str, Any]:
    spectator.pop("you", None)  # the spectator's own part: nobody's
    seats = spectator.get("seats")
    if isinstance(seats, list):
        spectator["seats"] = _seats_revealed(state, seats)
    return spectator


def readable(host: GameHost, live: LiveGame, state: GameState) -> dict[str, Any]:
    """The game in full; call it while holding the game still (`GameHost.reading`)."""
    marks = live.marks
    recent = list(live.recent)[-RECENT_SHOWN:]
    return {
        "success": True,
        "gameId": live.game_id,
        "kind": live.kind,
        "status": state.status,
        "seq": state.seq,
        "durability": live.durability,
        "durableSeq": marks.durable_seq,
        "snapshotSeq": marks.stored_snapshot_seq,
        "storedAt": None if live.in_memory_only else iso_ms(marks.stored_at_ms),
        "lastActionAt": iso_ms(live.last_activity_ms),
        "settings": dict(live.settings),
        "table": _table(state, host.view(live, None)),
        "recentEvents": [event.to_json() for event in recent],
        "dump": state.dump(),
    }


def readable_snapshot(
    state: GameState, kind: str, settings: Mapping[str, Any], created_at_ms: int
) -> dict[str, Any]:
    """A stored snapshot's state in full, as `readable` shows a live game (nobody connected to
    it: it is not the game being played)."""
    table = _table(state, state.view(None))
    for seat in table.get("seats", ()):
        if isinstance(seat, dict):
            seat.pop("connected", None)  # nobody is connected to a snapshot
    return {
        "success": True,
        "gameId": state.game_id,
        "kind": kind,
        "status": state.status,
        "seq": state.seq,
        "version": state.seq,
        "snapshotAt": iso_ms(created_at_ms),
        "settings": dict(settings),
        "table": table,
        "recentEvents": [],
        "dump": state.dump(),
    }
