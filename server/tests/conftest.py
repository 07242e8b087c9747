"""Databases for the server's tests: a migrated SQLite file per test, and a PostgreSQL database
per test session at REJOIN_TEST_POSTGRES_URL.

A PostgreSQL that cannot be reached FAILS the tests that need it, with a message saying how to
start it: a skipped database test would let CI pass without testing the database.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from rejoin_server.store import migrate
from rejoin_server.store.base import GameStore
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.store.sql import SqlGameStore
from rejoin_testkit.fixtures import postgres_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Starlette's deprecations fail the server's tests, so that none creeps in unnoticed (its
    warning class inherits from UserWarning, which pytest would only list at the end)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "error::starlette.exceptions.StarletteDeprecationWarning"
                )
            )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database on the test PostgreSQL, dropped at the end of the session."""
    with postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE games, events, snapshots, reconnect_tokens, signing_keys, data_keys")


def _fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        _truncate(url)
        return url
    path = tmp_path / "rejoin.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["sqlite", POSTGRES])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: SQLite and PostgreSQL in turn."""
    return _fresh_database(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", POSTGRES])
def unmigrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all (SQLite: a file not created yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'unmigrated.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
async def sql_store(database_url: str) -> AsyncIterator[SqlGameStore]:
    store = SqlGameStore(database_url, keep_snapshots=3)
    await store.open()
    yield store
    await store.close()


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GameStore]:
    """Every `GameStore`: the memory double, and the SQL store on SQLite and on PostgreSQL."""
    if request.param == "memory":
        yield MemoryGameStore(keep_snapshots=3)
        return
    sql_store = SqlGameStore(_fresh_database(request.param, request, tmp_path), keep_snapshots=3)
    await sql_store.open()
    yield sql_store
    await sql_store.close()
