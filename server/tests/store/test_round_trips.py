"""Round trips to PostgreSQL per unit of work, counted in libpq's protocol trace (one ReadyForQuery
per wait on the server): an append batch, with or without snapshots, is one, the commit included
(`store.appends`); so are a token's use and a single read. A regression here costs every durable
action its wait again."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from psycopg import pq

from rejoin_server.games.base import Event
from rejoin_server.store import appends, reads, tokens
from rejoin_server.store.base import AppendWrite, GameRecord, SnapshotWrite, TokenClaimUse, TokenRow
from rejoin_server.store.connection import Database
from rejoin_server.store.urls import parse_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(postgres_url: str) -> Database:
    return Database(parse_url(postgres_url), keep_snapshots=3)


@pytest.fixture
def conn(db: Database) -> Iterator[Any]:
    """A connection to an empty database, as the store's threads have."""
    connection = db.connect()
    connection.execute("TRUNCATE games, events, snapshots, reconnect_tokens, seat_claims")
    yield connection
    db.disconnect(connection)


def round_trips(conn: Any, tmp_path: Path, work: Callable[[], object]) -> int:
    """How many times `work` waited for the server on `conn`."""
    path = tmp_path / "trace.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            work()
        finally:
            conn.pgconn.untrace()
    finally:
        os.close(fd)
    return sum("ReadyForQuery" in line for line in path.read_text().splitlines())


def new_game(db: Database, conn: Any, game_id: str) -> None:
    record = GameRecord(game_id, "counter", {}, "playing", 1, 1, None, 0)
    appends.insert_game(db, conn, record)


def append(game_id: str, seq: int, snapshot: bool = False) -> AppendWrite:
    event = Event(seq, "tick", 1, {"n": seq})
    snap = SnapshotWrite(seq, orjson.dumps({"n": seq}), "0" * 64) if snapshot else None
    data = [orjson.dumps(event.data).decode()]
    return AppendWrite(game_id, seq - 1, [event], data, "playing", 1, snap, f"a{seq}", None, None)


def test_an_append_is_one_round_trip_with_its_snapshot_and_beside_other_games(
    db: Database, conn: Any, tmp_path: Path
) -> None:
    for game_id in ("a", "b", "c"):
        new_game(db, conn, game_id)

    assert round_trips(conn, tmp_path, lambda: appends.write_batch(db, conn, [append("a", 1)])) == 1
    with_snapshot = [append("a", 2, snapshot=True)]
    assert round_trips(conn, tmp_path, lambda: appends.write_batch(db, conn, with_snapshot)) == 1
    batch = [append("a", 3), append("b", 1, snapshot=True), append("c", 1)]
    assert round_trips(conn, tmp_path, lambda: appends.write_batch(db, conn, batch)) == 1

    record = reads.get_game(db, conn, "a")
    assert record is not None
    assert record.last_seq == 3
    assert [e.seq for e in reads.read_events(db, conn, "b", 0, None)] == [1]
    assert reads.load(db, conn, "b").snapshots[0].version == 1


def test_a_batch_holding_a_game_twice_commits_both_in_one_transaction(
    db: Database, conn: Any, tmp_path: Path
) -> None:
    new_game(db, conn, "a")
    batch = [append("a", 1), append("a", 2, snapshot=True)]

    # BEGIN, one statement per round, COMMIT.
    assert round_trips(conn, tmp_path, lambda: appends.write_batch(db, conn, batch)) == 4
    assert [e.seq for e in reads.read_events(db, conn, "a", 0, None)] == [1, 2]


def test_a_token_use_and_a_read_are_one_round_trip_each(
    db: Database, conn: Any, tmp_path: Path
) -> None:
    new_game(db, conn, "a")
    tokens.insert_token(db, conn, TokenRow("j1", "a", "p1", 1, 10**13), None)
    use = TokenClaimUse("j1", "c1", 2, TokenRow("j2", "a", "p1", 2, 10**13), None)

    assert round_trips(conn, tmp_path, lambda: tokens.consume_tokens(db, conn, [use])) == 1
    assert round_trips(conn, tmp_path, lambda: reads.get_game(db, conn, "a")) == 1
    stored = reads.get_token(db, conn, "j1")
    assert stored is not None
    assert stored.next_jti == "j2"
