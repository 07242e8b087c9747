"""The Alembic migrations build exactly the tables the code defines, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from rejoin_server.store import migrate
from rejoin_server.store import tables as _tables  # noqa: F401  (registers the tables)
from rejoin_server.store.urls import sqlalchemy_url


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = sa.create_engine(sqlalchemy_url(database_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        revision = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    assert diff == []
    assert revision == "0001"


def test_upgrading_twice_is_harmless(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)


def test_a_new_sqlite_file_is_created_and_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    assert {"games", "events", "snapshots", "alembic_version"} <= set(
        sa.inspect(engine).get_table_names()
    )
    engine.dispose()
