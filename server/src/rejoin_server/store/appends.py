"""The SQL store's write path, on the writer thread: a new game's row, and a batch of appends in one
transaction.

Fencing: an append is a compare-and-set on `games.last_seq` (the row must still hold the seq the
writer built on) and on `games.owner_epoch` (the node must still own the game, docs/cluster.md),
and `(game_id, seq)` is the events' primary key. A second writer of the same game fails with
`SeqConflict`, a node that lost the game with `Fenced`; history never forks. When one append of a
batch fails its fence the batch raises `BatchRejected`, and the worker retries its appends one by
one to find which.

Round trips to PostgreSQL per durable action (counted with libpq's protocol trace): one. A batch
whose games each appear once is one statement (`PostgresStatements.append_batch`: the games' rows
and the events; `append_batch_with_snapshots` also stores the snapshots and prunes them) run alone
in autocommit, its own transaction; the commit is done when its answer arrives, so the ack that
waits for it is still sent only after the commit. Before: three (BEGIN, the advance-and-insert,
COMMIT), five with a snapshot (its upsert and its prune), each a wait on the writer thread that
then needed the GIL back from a busy loop. A batch holding a game twice (rare: a game has at most
one strict write in flight) runs one such statement per round inside BEGIN … COMMIT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from rejoin_server.errors import Fenced, GameNotFound, SeqConflict
from rejoin_server.store.base import AppendWrite, GameRecord, SnapshotWrite
from rejoin_server.store.postgres import FENCE_FAILED
from rejoin_server.store.rows import EventRow, GameAdvance, NewGame, SnapshotRow

if TYPE_CHECKING:
    from rejoin_server.store.connection import Connection, Database
    from rejoin_server.store.postgres import PostgresStatements
    from rejoin_server.store.statements import Statements


class BatchRejected(Exception):
    """A batch's fence failed somewhere; the worker retries its items one by one to find where."""


def write_batch(db: Database, conn: Connection, items: list[AppendWrite]) -> None:
    if db.pg is not None:
        _write_postgres(db, conn, items)
        return
    with db.transaction(conn, write=True) as cursor:
        try:
            _advance_sqlite(db, cursor, items)
        except db.duplicate as exc:
            if (conflict := _seq_conflict(items)) is not None:
                raise conflict from exc
            raise
        for item in items:
            if item.snapshot is not None:
                _write_snapshot(db, cursor, item.game_id, item.snapshot, item.now_ms)


def _advance_sqlite(db: Database, cursor: Any, items: list[AppendWrite]) -> None:
    # SQLite runs in-process: a statement per row costs microseconds, no round trips.
    cursor.executemany(db.sql.advance_game, [_advance_row(item) for item in items])
    if cursor.rowcount != len(items):
        raise _fence_error(db.sql, cursor, items)
    rows = [row for item in items for row in _event_rows(item)]
    if rows:
        cursor.executemany(db.sql.insert_event, rows)


def _write_postgres(db: Database, conn: Connection, items: list[AppendWrite]) -> None:
    # One statement per round (arrays unnested server-side): a single round trip however many
    # games are in it. A game may appear twice in a batch; its second append must see its first,
    # so each round holds at most one append per game, and rounds share a transaction.
    assert db.pg is not None
    statements = [_batch_statement(db, db.pg, round_items) for round_items in rounds(items)]
    try:
        if len(statements) == 1:
            with db.statement(conn) as cursor:
                cursor.execute(*statements[0])
        else:
            with db.transaction(conn, write=True) as cursor:
                for statement in statements:
                    cursor.execute(*statement)
    except db.duplicate as exc:
        if (conflict := _seq_conflict(items)) is not None:
            raise conflict from exc
        raise
    except Exception as exc:
        if getattr(exc, "sqlstate", None) != FENCE_FAILED:
            raise
        # Nothing of the batch was written; which fence failed is read in a statement of its own.
        with db.statement(conn) as cursor:
            raise _fence_error(db.sql, cursor, items) from None


def _batch_statement(
    db: Database, sql: PostgresStatements, items: list[AppendWrite]
) -> tuple[str, list[Any]]:
    """The statement of a round and its parameters: columns of the games' advances and of the
    events, (with snapshots: their columns, and how many to keep,) then how many games must
    advance."""
    advance = columns([_advance_row(item) for item in items], len(GameAdvance._fields))
    events = columns([row for item in items for row in _event_rows(item)], len(EventRow._fields))
    snapshots = [
        _snapshot_row(item.game_id, item.snapshot, item.now_ms)
        for item in items
        if item.snapshot is not None
    ]
    if not snapshots:
        return sql.append_batch, [*advance, *events, len(items)]
    params = [*advance, *events, *columns(snapshots, len(SnapshotRow._fields)), db.keep_snapshots]
    return sql.append_batch_with_snapshots, [*params, len(items)]


def _seq_conflict(items: list[AppendWrite]) -> SeqConflict | None:
    """What a duplicate key means for a batch of one append: its seq is taken. (A bigger batch's
    error goes up as it is, and the worker retries its appends one by one.)"""
    if len(items) == 1 and items[0].events:
        return SeqConflict(items[0].game_id, items[0].events[0].seq)
    return None


def _fence_error(sql: Statements, cursor: Any, items: list[AppendWrite]) -> Exception:
    if len(items) > 1:
        return BatchRejected()
    item = items[0]
    cursor.execute(sql.last_seq, (item.game_id,))
    row = cursor.fetchone()
    if row is None:
        return GameNotFound(item.game_id)
    if item.owner_epoch is not None and row[1] != item.owner_epoch:
        return Fenced(item.game_id, item.prev_seq + 1)
    return SeqConflict(item.game_id, item.prev_seq + 1)


def _write_snapshot(
    db: Database, cursor: Any, game_id: str, snap: SnapshotWrite, now_ms: int
) -> None:
    cursor.execute(db.sql.upsert_snapshot, _snapshot_row(game_id, snap, now_ms))
    cursor.execute(db.sql.prune_snapshots, (game_id, game_id, db.keep_snapshots))


def _snapshot_row(game_id: str, snap: SnapshotWrite, now_ms: int) -> SnapshotRow:
    return SnapshotRow(game_id, snap.version, snap.state.decode(), snap.checksum, now_ms)


def _advance_row(item: AppendWrite) -> GameAdvance:
    history = item.history
    seating = item.seating
    return GameAdvance(
        last_seq=item.events[-1].seq if item.events else item.prev_seq,
        status=item.status,
        updated_at=item.now_ms,
        completed_at=item.now_ms if item.status == "completed" else None,
        events_bytes=sum(len(text) for text in item.data),
        history=None if history is None else orjson.dumps([list(e) for e in history]).decode(),
        seating=None if seating is None else orjson.dumps(seating.data).decode(),
        open_at=None if seating is None else int(seating.open),
        game_id=item.game_id,
        prev_seq=item.prev_seq,
        owner_epoch=item.owner_epoch,
    )


def _event_rows(item: AppendWrite) -> list[EventRow]:
    last = len(item.events) - 1
    return [
        EventRow(item.game_id, e.seq, e.kind, e.at, text, item.action_id if i == last else None)
        for i, (e, text) in enumerate(zip(item.events, item.data, strict=True))
    ]


def columns(rows: list[Any], width: int) -> list[list[Any]]:
    """Rows to columns, the shape `unnest` takes."""
    return [[row[i] for row in rows] for i in range(width)]


def rounds(items: list[AppendWrite]) -> list[list[AppendWrite]]:
    """Split a batch so that no game appears twice in a round, keeping each game's order."""
    found: list[list[AppendWrite]] = []
    seen: dict[str, int] = {}
    for item in items:
        index = seen.get(item.game_id, 0)
        seen[item.game_id] = index + 1
        if index == len(found):
            found.append([])
        found[index].append(item)
    return found


def insert_game(db: Database, conn: Connection, record: GameRecord) -> None:
    """A new game's row: nothing appended yet."""
    settings = orjson.dumps(record.settings).decode()
    row = NewGame(
        record.game_id,
        record.kind,
        settings,
        record.status,
        record.created_at,
        record.updated_at,
        completed_at=None,
        last_seq=0,
        events_bytes=0,
        owner=record.owner,
        owner_epoch=record.owner_epoch,
        durability=record.durability,
        seating=None if record.seating is None else orjson.dumps(record.seating).decode(),
        open_at=record.open_at,
    )
    with db.transaction(conn, write=True) as cursor:
        cursor.execute(db.sql.insert_game, row)
