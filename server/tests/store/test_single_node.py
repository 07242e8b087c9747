"""`hold_sqlite_file`: one holder per SQLite file, released with the holder; nothing to hold for
PostgreSQL or an in-memory database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rejoin_server.store.single_node import DatabaseInUse, hold_sqlite_file


def test_a_sqlite_file_has_one_holder_until_it_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    first = hold_sqlite_file(url)
    assert first is not None
    with pytest.raises(DatabaseInUse, match=str(path)):
        hold_sqlite_file(url)
    # SQLite itself is not in the way: the store can still read and write the held file.
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
    first.release()
    again = hold_sqlite_file(url)
    assert again is not None
    again.release()


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:5432/test", "sqlite:///:memory:", "sqlite://"]
)
def test_nothing_is_held_where_there_is_no_file(url: str) -> None:
    assert hold_sqlite_file(url) is None
