"""The SQL store's deletes: one game, the games completed before a time, and the quota's victims.
Each is one transaction on the writer thread; a game's rows go with it, tokens and claims too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rejoin_server.store.base import Deleted
from rejoin_server.store.quota import CompletedGame, quota_victims

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database

# SQLite limits the parameters of one statement; deleting many games goes in slices of this many.
_IDS_PER_STATEMENT = 500
# The tables that hold a game's rows, in the order they are deleted (rows pointing at a game
# before the game).
_GAME_TABLES = ("reconnect_tokens", "seat_claims", "events", "snapshots", "games")


def delete_games(db: Database, conn: Connection, game_ids: list[str]) -> Deleted:
    with db.transaction(conn, write=True) as cursor:
        return _delete_games(db, cursor, game_ids)


def evict_completed(db: Database, conn: Connection, completed_before_ms: int) -> list[str]:
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.completed_before, (completed_before_ms,))
        game_ids = [game_id for (game_id,) in cursor.fetchall()]
        _delete_games(db, cursor, game_ids)
        return game_ids


def evict_for_quota(
    db: Database, conn: Connection, max_games: int | None, max_bytes: int | None
) -> list[str]:
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.game_bytes)
        rows = [(game_id, status, done, int(size)) for game_id, status, done, size in cursor]
        victims = quota_victims(
            len(rows),
            sum(size for *_, size in rows),
            [
                CompletedGame(game_id, done or 0, size)
                for game_id, status, done, size in rows
                if status == "completed"
            ],
            max_games,
            max_bytes,
        )
        _delete_games(db, cursor, victims)
        return victims


def _delete_games(db: Database, cursor: Any, game_ids: list[str]) -> Deleted:
    counts = dict.fromkeys(_GAME_TABLES, 0)
    for start in range(0, len(game_ids), _IDS_PER_STATEMENT):
        some = game_ids[start : start + _IDS_PER_STATEMENT]
        for table in _GAME_TABLES:
            cursor.execute(db.sql.delete_of_games(table, len(some)), db.sql.game_ids_param(some))
            counts[table] += cursor.rowcount
    return Deleted(
        events=counts["events"],
        snapshots=counts["snapshots"],
        games=counts["games"],
        tokens=counts["reconnect_tokens"],
    )
