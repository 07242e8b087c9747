"""Databases for server processes, and direct access to their rows.

`postgres_database()` creates a fresh database on the test PostgreSQL (REJOIN_TEST_POSTGRES_URL) and
drops it afterwards; an unreachable PostgreSQL is a failure, never a skip. `Rows` reads and
tampers with a server's tables behind its back (events, snapshots), the way a disk or an operator
could, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

POSTGRES_URL = os.environ.get(
    "REJOIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def connect_admin(url: str = POSTGRES_URL) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {url} ({exc}). Start it (e.g. "
            "`pg_ctlcluster 15 main start`) or point REJOIN_TEST_POSTGRES_URL at one. "
            "The e2e tests never skip PostgreSQL.",
            pytrace=False,
        )


@contextmanager
def postgres_database(url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL at `url` (the server migrates it itself)."""
    name = f"rejoin_e2e_{uuid.uuid4().hex[:12]}"
    with connect_admin(url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(url, name)
    finally:
        with connect_admin(url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a file SQLite URL: {url!r}")
    return url[len(prefix) :]


class Rows:
    """Plain SQL on a server's database. Write SQL with `?` placeholders; they become `%s` on
    PostgreSQL. Every call opens and closes its own connection, so nothing is held across a kill."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if is_sqlite(self.url):
            conn = sqlite3.connect(sqlite_path(self.url), timeout=10)
            try:
                return list(conn.execute(statement, tuple(params)).fetchall())
            finally:
                conn.close()
        with psycopg.connect(self.url, autocommit=True) as pg:
            cur = pg.execute(statement.replace("?", "%s"), tuple(params))
            return list(cur.fetchall()) if cur.description is not None else []

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own committed transaction; return the rows it changed."""
        if is_sqlite(self.url):
            conn = sqlite3.connect(sqlite_path(self.url), timeout=10)
            try:
                with conn:
                    return conn.execute(statement, tuple(params)).rowcount
            finally:
                conn.close()
        with psycopg.connect(self.url, autocommit=True) as pg:
            return pg.execute(statement.replace("?", "%s"), tuple(params)).rowcount

    # The server's tables (migrations/versions): events and snapshots.

    def events(self, game_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT seq, kind, at, data FROM events WHERE game_id = ? ORDER BY seq", [game_id]
        )
        return [{"seq": s, "kind": k, "at": a, "data": _json(d)} for s, k, a, d in rows]

    def snapshot_versions(self, game_id: str) -> list[int]:
        rows = self.query(
            "SELECT version FROM snapshots WHERE game_id = ? ORDER BY version", [game_id]
        )
        return [int(v) for (v,) in rows]

    def snapshot(self, game_id: str, version: int) -> tuple[dict[str, Any], str, int]:
        """(state, checksum, created_at) of one stored snapshot."""
        rows = self.query(
            "SELECT state, checksum, created_at FROM snapshots WHERE game_id = ? AND version = ?",
            [game_id, version],
        )
        assert rows, f"no snapshot {version} of game {game_id} is stored"
        state, checksum, created_at = rows[0]
        return _json(state), str(checksum), int(created_at)

    def tamper_snapshot(self, game_id: str, version: int) -> None:
        """Change one value inside a stored snapshot and keep its old checksum: the bit rot a
        checksum exists to catch (the JSON is still valid, so only the checksum can tell)."""
        state, _, _ = self.snapshot(game_id, version)
        state["e2e_tampered"] = True
        changed = self.execute(
            "UPDATE snapshots SET state = ? WHERE game_id = ? AND version = ?",
            [json.dumps(state), game_id, version],
        )
        assert changed == 1

    def delete_event(self, game_id: str, seq: int) -> None:
        changed = self.execute("DELETE FROM events WHERE game_id = ? AND seq = ?", [game_id, seq])
        assert changed == 1, f"event {seq} of game {game_id} was not stored"


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value
