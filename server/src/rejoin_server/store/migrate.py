"""Runs the Alembic migrations of `migrations/` against a database URL, and tells whether a database
is already at the newest revision.

Alembic and SQLAlchemy are imported only when a migration actually runs: `is_current` is what the
server checks at start, with the bare driver, and importing Alembic (with Mako and its script
machinery) and SQLAlchemy would add hundreds of milliseconds to every restart for nothing when the
schema is already current.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from rejoin_server.errors import StorageUnavailable
from rejoin_server.store.urls import parse_url, sqlalchemy_url, without_pooler_flag

# The newest revision in `migrations/versions` (a test checks it against Alembic's own head).
HEAD_REVISION = "0008"


def migrations_dir() -> Path:
    """The wheel carries the scripts as `rejoin_server/_migrations`; a checkout (editable install)
    reads them from the repository's `migrations/` folder."""
    packaged = Path(str(resources.files("rejoin_server"))) / "_migrations"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[4] / "migrations"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"rejoin's migrations are missing: neither {packaged} nor {checkout} exists; "
        "reinstall rejoin-server."
    )


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (the newest by default)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    """Whether the database at `url` is at `HEAD_REVISION`, read from Alembic's `alembic_version`
    table with the bare driver. False when the table (or the SQLite file) does not exist yet; a
    SQLite file that is missing is not created. Raises `StorageUnavailable` when the database
    cannot be reached."""
    parsed = parse_url(url)
    query = "SELECT version_num FROM alembic_version"
    if parsed.postgres:
        import psycopg

        conninfo = without_pooler_flag(parsed).render()
        try:
            with psycopg.connect(conninfo, connect_timeout=3) as conn:
                rows = conn.execute(query).fetchall()
        except psycopg.errors.UndefinedTable:
            return False
        except psycopg.OperationalError as exc:
            raise StorageUnavailable(f"{type(exc).__name__}: {str(exc).strip()}") from exc
        return [tuple(row) for row in rows] == [(HEAD_REVISION,)]
    database = parsed.database
    if not database or database == ":memory:" or not Path(database).is_file():
        return False
    try:
        # Read-only: checking must never create or change anything.
        db = sqlite3.connect(Path(database).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.OperationalError as exc:
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc
    try:
        rows = db.execute(query).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        db.close()
    return [tuple(row) for row in rows] == [(HEAD_REVISION,)]
