"""`GET /api/admin/games/{gameId}`: one game's whole state, for an operator to read.

A game's `dump()` is compact (poker's is a replay log with one-letter keys, docs/games.md), which
is what a snapshot needs and nobody wants to read. This is the same state as players see it, but
with nothing hidden: the spectator's view (phase, board, pots, whose turn), each seat as its own
player sees it (hole cards included), who is connected, how far the events are stored and
snapshotted, and the newest events in full. The dump comes along for completeness.

It needs no knowledge of the game's kind beyond the `seats` list of `{seat, playerId, …}` that
the views of every kind served here share (a kind without one shows its spectator view as is).
"""

from __future__ import annotations

from typing import Any

from rejoin_server.games.base import GameState
from rejoin_server.host.host import GameHost
from rejoin_server.host.live import LiveGame
from rejoin_server.timefmt import iso_ms

# Events shown in full, the newest last.
RECENT_SHOWN = 30


def _seats_revealed(
    state: GameState, table: dict[str, Any], seats: list[Any]
) -> list[dict[str, Any]]:
    """Each seat of the spectator's `table` as its own player sees it, `connected` kept."""
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
        revealed.append({**own, "connected": seat.get("connected", False)})
    return revealed


def readable(host: GameHost, live: LiveGame, state: GameState) -> dict[str, Any]:
    """The game in full; call it while holding the game still (`GameHost.reading`)."""
    table = host.view(live, None)
    table.pop("you", None)  # the spectator's own part: nobody's
    seats = table.get("seats")
    if isinstance(seats, list):
        table["seats"] = _seats_revealed(state, table, seats)
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
        "table": table,
        "recentEvents": [event.to_json() for event in recent],
        "dump": state.dump(),
    }
