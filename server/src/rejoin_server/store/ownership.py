"""The SQL store's ownership statements, on the writer thread: claiming a game for a node and
releasing it (docs/cluster.md). The append's fence (`store.appends`) is what makes them safe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rejoin_server.errors import GameNotFound, OwnedElsewhere
from rejoin_server.store.base import Claim

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database


def claim_game(db: Database, conn: Connection, game_id: str, node: str, lease_ms: int) -> Claim:
    with db.transaction(conn, write=True) as cursor:
        # The row is locked first (SQLite's write transaction locks the file), so the owner read
        # here is the one the claim replaces.
        cursor.execute(db.sql.owner_of_locked, (game_id,))
        found = cursor.fetchone()
        if found is None:
            raise GameNotFound(game_id)
        previous = found[0]
        if db.pg is not None:
            params = {"node": node, "game_id": game_id, "lease_ms": lease_ms}
            cursor.execute(db.pg.claim_game_if_free, params)
        else:
            cursor.execute(db.sql.claim_game, (node, game_id))
        row = cursor.fetchone()
    if row is None:
        raise OwnedElsewhere(game_id, str(previous))
    return Claim(int(row[0]), previous)


def release_game(
    db: Database,
    conn: Connection,
    game_id: str,
    node: str,
    owner_epoch: int | None,
    *,
    to: str | None,
) -> bool:
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.release_game, (to, game_id, node, owner_epoch))
        return bool(cursor.rowcount)
