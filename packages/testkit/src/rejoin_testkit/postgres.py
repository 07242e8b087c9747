"""Throwaway databases on the test PostgreSQL: created fresh, dropped afterwards.

The server migrates an empty database itself at start; the store tests migrate theirs. Nothing
here imports pytest (the benchmarks use it too): `rejoin_testkit.fixtures` turns an unreachable
PostgreSQL into a failed test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

POSTGRES_URL = os.environ.get(
    "REJOIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class PostgresUnreachable(RuntimeError):
    """The PostgreSQL a test or benchmark needs cannot be reached; the message says what to do."""


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` instead (user, host, port and query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def connect_admin(url: str = POSTGRES_URL) -> psycopg.Connection[Any]:
    """An autocommit connection for CREATE and DROP DATABASE."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise PostgresUnreachable(
            f"PostgreSQL is not reachable at {url} ({exc}). Start it (e.g. "
            "`pg_ctlcluster 15 main start`) or point REJOIN_TEST_POSTGRES_URL at one. "
            "The tests never skip PostgreSQL."
        ) from exc


@contextmanager
def throwaway_database(
    url: str = POSTGRES_URL, *, name: str | None = None, prefix: str = "rejoin_test"
) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL at `url` (`name`, else `<prefix>_<random>`); its
    URL. Dropped on the way out, also when the body failed, with any connection still open."""
    database = name if name is not None else f"{prefix}_{uuid.uuid4().hex[:12]}"
    with connect_admin(url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        yield with_database(url, database)
    finally:
        with connect_admin(url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
