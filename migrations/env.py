"""Alembic environment: runs rejoin's migrations on the connection the server hands over, or on
REJOIN_DATABASE_URL when Alembic is run by hand."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from rejoin_server.store.tables import metadata as target_metadata
from rejoin_server.store.urls import sqlalchemy_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = os.environ.get("REJOIN_DATABASE_URL", "sqlite:///./rejoin.db")
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_migrations_online()
