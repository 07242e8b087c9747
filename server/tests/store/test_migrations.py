"""The Alembic migrations build exactly the tables the code defines, on SQLite and PostgreSQL, and
`is_current` tells a migrated database from one that is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from rejoin_server.store import migrate, schema, tables
from rejoin_server.store.base import TokenRow
from rejoin_server.store.urls import sqlalchemy_url

TABLES = {
    "games",
    "events",
    "snapshots",
    "reconnect_tokens",
    "signing_keys",
    "seat_claims",
    "alembic_version",
}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.migrations_dir()))
    return config


def test_migrating_an_empty_database_gives_exactly_the_declared_schema(
    unmigrated_database_url: str,
) -> None:
    url = unmigrated_database_url
    migrate.upgrade(url)
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, tables.metadata)
            revision = context.get_current_revision()
        inspector = sa.inspect(engine)
        migrated = {
            name: [column["name"] for column in inspector.get_columns(name)]
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
    finally:
        engine.dispose()
    assert diff == []
    assert revision == migrate.HEAD_REVISION
    # compare_metadata does not look at the order of columns: the tables hold them as declared.
    assert migrated == {t.name: [c.name for c in t.columns] for t in schema.TABLES}


def test_the_sqlalchemy_tables_are_the_declared_schema() -> None:
    assert [t.name for t in schema.TABLES] == list(tables.metadata.tables)
    for table in schema.TABLES:
        built = tables.metadata.tables[table.name]
        assert [c.name for c in table.columns] == [c.name for c in built.columns]
        assert [c.name for c in table.columns if c.primary_key] == [
            c.name for c in built.primary_key.columns
        ]


def test_token_rows_map_straight_to_the_table() -> None:
    # The SQL store reads a row of reconnect_tokens back as a TokenRow, and TokenRow is the whole
    # row: no column is left unread.
    assert list(TokenRow.__dataclass_fields__) == [c.name for c in schema.RECONNECT_TOKENS.columns]


def test_head_revision_is_the_newest_script() -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == migrate.HEAD_REVISION


def test_upgrading_twice_is_harmless(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.is_current(database_url)


def test_a_new_sqlite_file_is_created_and_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_is_current_only_at_the_head(unmigrated_database_url: str) -> None:
    url = unmigrated_database_url
    assert not migrate.is_current(url)
    if url.startswith("sqlite"):  # checking never creates the file
        assert not Path(sqlalchemy_url(url).database or "").exists()
    migrate.upgrade(url, "0001")
    assert not migrate.is_current(url)
    migrate.upgrade(url)
    assert migrate.is_current(url)


def downgraded(url: str, revision: str) -> tuple[set[str], dict[str, set[str]]]:
    """Migrate `url` to the head, then down to `revision`: the tables left, and each one's
    columns. Then up again, which must bring it back to current."""
    migrate.upgrade(url)
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
        inspector = sa.inspect(engine)
        names = set(inspector.get_table_names())
        columns = {name: {c["name"] for c in inspector.get_columns(name)} for name in names}
    finally:
        engine.dispose()
    assert not migrate.is_current(url)
    migrate.upgrade(url)
    assert migrate.is_current(url)
    return names, columns


def test_0002_downgrades_and_upgrades_again(unmigrated_database_url: str) -> None:
    tables, columns = downgraded(unmigrated_database_url, "0001")
    assert "reconnect_tokens" not in tables
    assert "action_id" not in columns["events"]


def test_0003_downgrades_and_upgrades_again(unmigrated_database_url: str) -> None:
    tables, columns = downgraded(unmigrated_database_url, "0002")
    assert "seat_claims" not in tables
    assert "history" not in columns["games"]
    assert "retired_at" not in columns["signing_keys"]


def test_0005_downgrades_and_upgrades_again(unmigrated_database_url: str) -> None:
    _, columns = downgraded(unmigrated_database_url, "0004")
    assert "durability" not in columns["games"]
    assert "owner_epoch" in columns["games"]


def test_0006_downgrades_and_upgrades_again(unmigrated_database_url: str) -> None:
    _, columns = downgraded(unmigrated_database_url, "0005")
    assert not {"seating", "open_at"} & columns["games"]
    assert "durability" in columns["games"]


def test_an_in_memory_sqlite_is_never_current() -> None:
    assert not migrate.is_current("sqlite://")
    assert not migrate.is_current("sqlite:///:memory:")


def test_is_current_does_not_import_alembic(database_url: str) -> None:
    # The server checks this at every start; Alembic and SQLAlchemy are only worth their import
    # time to migrate.
    script = (
        "import sys\n"
        "from rejoin_server.store import migrate\n"
        f"assert migrate.is_current({database_url!r})\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'alembic', 'sqlalchemy', 'sqlmodel'}\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


@pytest.mark.postgres
def test_a_url_with_the_pooler_flag_migrates(postgres_url: str) -> None:
    url = f"{postgres_url}?pgbouncer=true"  # libpq would refuse the flag: it is never passed on
    migrate.upgrade(url)
    assert migrate.is_current(url)
