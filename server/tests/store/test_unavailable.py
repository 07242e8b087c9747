"""A database that cannot be reached is a `StorageUnavailable`, quickly, and the store recovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rejoin_server.errors import StorageUnavailable
from rejoin_server.games.base import Event
from rejoin_server.store.sql import SqlGameStore
from rejoin_testkit.processes import free_port


async def test_an_unreachable_postgres_is_storage_unavailable() -> None:
    store = SqlGameStore(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    await store.open()
    try:
        with pytest.raises(StorageUnavailable) as caught:
            await store.append("g", [Event(1, "x", 0, {})], status="playing", now_ms=0)
        assert caught.value.code.value == "storage_unavailable"
        assert "try again" in caught.value.message
        with pytest.raises(StorageUnavailable):
            await store.load("g")
    finally:
        await store.close()


async def test_a_sqlite_file_that_cannot_be_opened_is_storage_unavailable(tmp_path: Path) -> None:
    store = SqlGameStore(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    await store.open()
    try:
        with pytest.raises(StorageUnavailable):
            await store.create_game("g", "counter", {}, 0)
    finally:
        await store.close()


async def test_a_missing_table_is_a_schema_error_not_an_outage(tmp_path: Path) -> None:
    """SQLite reports "no such table" with the class it uses for I/O failures; taken for an
    outage, an unmigrated database would put the server in degraded mode for ever."""
    import sqlite3

    store = SqlGameStore(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    await store.open()
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await store.create_game("g", "poker", {}, 0)
    finally:
        await store.close()
