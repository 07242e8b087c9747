"""The SQL store's ownership statements, on the writer thread: claiming a game for a node and
releasing it (docs/cluster.md). The append's fence (`store.appends`) is what makes them safe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rejoin_server.errors import ClaimContended, GameNotFound, OwnedElsewhere
from rejoin_server.store.base import Claim

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database


# How long a claim waits for a game's row that another transaction holds: a node paused in the
# middle of a write holds it until it runs again (or PostgreSQL ends its idle transaction), and a
# claim waiting that long would hold up every write queued behind it on this node's writer.
CLAIM_LOCK_TIMEOUT = "500ms"


def claim_game(db: Database, conn: Connection, game_id: str, node: str, lease_ms: int) -> Claim:
    if db.pg is not None:
        import psycopg  # only ever on PostgreSQL

        try:
            return _claim(db, conn, game_id, node, lease_ms)
        except psycopg.errors.LockNotAvailable as exc:
            raise ClaimContended(game_id) from exc
    return _claim(db, conn, game_id, node, lease_ms)


def _claim(db: Database, conn: Connection, game_id: str, node: str, lease_ms: int) -> Claim:
    with db.transaction(conn, write=True) as cursor:
        if db.pg is not None:
            cursor.execute(f"SET LOCAL lock_timeout = '{CLAIM_LOCK_TIMEOUT}'")
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
