"""Direct access to a server's rows: `Rows` reads and tampers with its tables behind its back
(events, snapshots), the way a disk or an operator could, on SQLite and PostgreSQL alike. (Fresh
PostgreSQL databases come from `rejoin_testkit`.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg


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
