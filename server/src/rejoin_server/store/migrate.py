"""Runs the Alembic migrations of `migrations/` against a database URL."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from rejoin_server.store.urls import sqlalchemy_url


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
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
