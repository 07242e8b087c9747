"""The store's tables as SQLAlchemy objects, built from `store.schema`; `migrations/` creates them
with Alembic, and the tests check the migrated schema against `metadata`.

Only the migrations and the tests import this module: the running server's SQL (`store.sql`) is
plain text on the drivers, built from the same `store.schema`, because importing SQLAlchemy would
add hundreds of milliseconds to every restart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from rejoin_server.store.schema import TABLES, Column, Table

metadata = sa.MetaData()


def _type(column: Column) -> sa.types.TypeEngine[Any]:
    if column.type == "string":
        return sa.String(length=column.length)
    if column.type == "bigint":
        return sa.BigInteger()
    if column.type == "text":
        return sa.Text()
    if column.type == "json":
        return sa.JSON()
    # JSONB where the database has it; the text of JSON everywhere else.
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _column(column: Column) -> sa.Column[Any]:
    keys = [sa.ForeignKey(column.references)] if column.references else []
    return sa.Column(
        column.name,
        _type(column),
        *keys,
        primary_key=column.primary_key,
        nullable=column.nullable,
        # A key part that is a number is still given by the caller (a seq, a version).
        autoincrement=False,
    )


def _table(table: Table) -> sa.Table:
    return sa.Table(
        table.name,
        metadata,
        *(_column(column) for column in table.columns),
        *(sa.Index(index.name, *index.columns) for index in table.indexes),
    )


games, events, snapshots, reconnect_tokens, seat_claims, signing_keys, cluster_nodes, data_keys = (
    _table(table) for table in TABLES
)
