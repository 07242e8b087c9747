"""A game's stored snapshots for the operator console: which are kept, and one opened apart from
the game being played (restore-inspect: what a restore from it would start from).

Each is checked as a restore checks it (`store.restore.open_snapshot`: its checksum, its JSON, the
game loading it); one that fails is listed with why, and cannot be opened.
"""

from __future__ import annotations

from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.console.full_state import readable_snapshot
from rejoin_server.errors import ApiError
from rejoin_server.games.kinds import GameKinds
from rejoin_server.store.base import GameStore
from rejoin_server.store.restore import open_snapshot
from rejoin_server.timefmt import iso_ms


async def stored_snapshots(store: GameStore, kinds: GameKinds, game_id: str) -> dict[str, Any]:
    """`{snapshots: [{version, createdAt, bytes, verified, problem}]}`, newest first (`bytes`:
    what the row takes in the database). Raises
    `GameNotFound`, and `invalid_request` for a kind this server does not serve."""
    log = await store.load(game_id)
    engine = kinds.engine(log.game.kind)
    listed = []
    for snap in log.snapshots:
        problem, state = open_snapshot(engine, game_id, log.game.settings, snap)
        listed.append(
            {
                "version": snap.version,
                "createdAt": iso_ms(snap.created_at),
                "bytes": snap.size,  # as stored (sealed, when it is), not opened
                "verified": state is not None,
                "problem": problem or None,
            }
        )
    return {"success": True, "gameId": game_id, "snapshots": listed}


async def inspect_snapshot(
    store: GameStore, kinds: GameKinds, game_id: str, version: int
) -> dict[str, Any]:
    """Snapshot `version` of the game, opened apart from the game in memory (which it leaves as
    it is). Raises `invalid_request` naming the versions kept, or why that one cannot be opened."""
    log = await store.load(game_id)
    engine = kinds.engine(log.game.kind)
    kept = [snap.version for snap in log.snapshots]
    snap = next((s for s in log.snapshots if s.version == version), None)
    if snap is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Game {game_id} keeps no snapshot at version {version}; it keeps "
            f"{', '.join(map(str, kept)) or 'none'}.",
        )
    problem, state = open_snapshot(engine, game_id, log.game.settings, snap)
    if state is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Snapshot {version} of game {game_id} cannot be opened: {problem}. A restore "
            "passes it over for an older one.",
        )
    return readable_snapshot(state, log.game.kind, log.game.settings, snap.created_at)
