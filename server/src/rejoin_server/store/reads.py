"""The SQL store's reads, on the reader thread: each one transaction on SQLite, so a load sees one
state; on PostgreSQL, where a transaction would not change what its statements see, none
(`Database.transaction`).

Rows come back in the order of the record they fill (`store.statements` selects a record's fields
as its columns), so they map straight onto `GameRecord`, `StoredSnapshot`, `RawEvent`, `TokenRow`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from rejoin_server.errors import GameNotFound
from rejoin_server.games.base import GameStatus
from rejoin_server.store.base import (
    GameRecord,
    RawEvent,
    StoredLog,
    StoredSnapshot,
    TokenRow,
    Usage,
    first_action_seqs,
)
from rejoin_server.store.statements import GAME_FIELDS

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database

log = logging.getLogger(__name__)

_GAME_ID = GAME_FIELDS.index("game_id")
_SETTINGS = GAME_FIELDS.index("settings")
_HISTORY = GAME_FIELDS.index("history")
_SEATING = GAME_FIELDS.index("seating")


def game_record(row: Sequence[Any]) -> GameRecord:
    """A games row, selected as `GameRecord`'s fields, with its JSON decoded."""
    values = list(row)
    settings = values[_SETTINGS]
    values[_SETTINGS] = orjson.loads(settings) if isinstance(settings, str | bytes) else settings
    epochs = orjson.loads(values[_HISTORY] or "[]")
    values[_HISTORY] = tuple((str(epoch), int(first)) for epoch, first in epochs)
    values[_SEATING] = _seating(values[_GAME_ID], values[_SEATING])
    return GameRecord(*values)


def _seating(game_id: str, stored: str | bytes | None) -> Mapping[str, Any] | None:
    """A row's seating (the lobby's, `host.seating`), None when it has none or it is not a JSON
    object: it is only what the lobby shows, so a bad one (written by hand, or by a bug) must not
    fail the lobby's list or the game's load. The game's next change to its seats writes it anew."""
    if stored is None:
        return None
    try:
        seating = orjson.loads(stored)
    except orjson.JSONDecodeError as exc:
        log.warning("game %s: its stored seating is not JSON, read as none: %s", game_id, exc)
        return None
    if not isinstance(seating, dict):
        log.warning("game %s: its stored seating is not a JSON object, read as none", game_id)
        return None
    return seating


def load(db: Database, conn: Connection, game_id: str) -> StoredLog:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.game_row, (game_id,))
        row = cursor.fetchone()
        if row is None:
            raise GameNotFound(game_id)
        game = game_record(row)
        cursor.execute(db.sql.snapshots, (game_id,))
        snapshots = [StoredSnapshot(*r) for r in cursor.fetchall()]
        after = snapshots[0].version if snapshots else 0
        cursor.execute(db.sql.events_after, (game_id, after))
        events = [RawEvent(*r) for r in cursor.fetchall()]
        cursor.execute(db.sql.seat_claims, (game_id,))
        claims = {player_id: claim for player_id, claim in cursor.fetchall()}
        return StoredLog(game, snapshots, events, claims)


def read_events(
    db: Database, conn: Connection, game_id: str, after_seq: int, limit: int | None
) -> list[RawEvent]:
    sql = db.sql.events_after + (f" LIMIT {int(limit)}" if limit is not None else "")
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(sql, (game_id, after_seq))
        return [RawEvent(*r) for r in cursor.fetchall()]


def recent_actions(db: Database, conn: Connection, game_id: str, limit: int) -> dict[str, int]:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.recent_actions, (game_id, limit))
        rows = cursor.fetchall()
    return first_action_seqs((seq, action_id) for action_id, seq in reversed(rows))


def get_game(db: Database, conn: Connection, game_id: str) -> GameRecord | None:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.game_row, (game_id,))
        row = cursor.fetchone()
    return None if row is None else game_record(row)


def list_games(db: Database, conn: Connection, status: GameStatus | None) -> list[GameRecord]:
    with db.transaction(conn, write=False) as cursor:
        if status is None:
            cursor.execute(db.sql.games)
        else:
            cursor.execute(db.sql.games_with_status, (status,))
        return [game_record(row) for row in cursor.fetchall()]


def open_games(db: Database, conn: Connection, limit: int) -> list[GameRecord]:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.open_games, (limit,))
        return [game_record(row) for row in cursor.fetchall()]


def usage(db: Database, conn: Connection) -> Usage:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.usage)
        games, size, snapshots = cursor.fetchone()
    return Usage(int(games), int(size), int(snapshots))


def get_token(db: Database, conn: Connection, jti: str) -> TokenRow | None:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.token_row, (jti,))
        row = cursor.fetchone()
    return None if row is None else TokenRow(*row)


def current_token(
    db: Database, conn: Connection, game_id: str, player_id: str, now_ms: int
) -> TokenRow | None:
    with db.transaction(conn, write=False) as cursor:
        cursor.execute(db.sql.current_token, (game_id, player_id, now_ms))
        row = cursor.fetchone()
    return None if row is None else TokenRow(*row)
