"""Database URLs as docs/operations.md and hosted providers write them, read with the standard library."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from rejoin_server.store.sql import SqlGameStore
from rejoin_server.store.urls import behind_pooler, parse_url, sqlalchemy_url, without_pooler_flag


def test_postgres_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u@h:5432/db", "postgres://u:pw@h/db", "postgresql+psycopg://u@h/db"):
        assert sqlalchemy_url(url).drivername == "postgresql+psycopg"
        assert parse_url(url).postgres
        assert parse_url(url).render().startswith("postgresql://u")
    assert sqlalchemy_url("sqlite:///./rejoin.db").drivername == "sqlite"
    assert not parse_url("sqlite:///./rejoin.db").postgres


def test_other_databases_are_refused_with_the_forms_to_use() -> None:
    for refuse in (parse_url, sqlalchemy_url):
        with pytest.raises(ValueError, match=r"sqlite:///path/to/file.db or postgresql://"):
            refuse("mysql://root@localhost/db")
    with pytest.raises(ValueError, match=r"'mysql://root:\*\*\*@localhost/db'") as caught:
        parse_url("mysql://root:hunter2@localhost/db")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError, match="Unsupported database URL"):
        parse_url("rejoin.db")


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", False),
        ("postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres", True),
        ("postgresql://app@db.internal:6432/app", True),
        ("postgresql://app@db.internal:5432/app?pgbouncer=true", True),
        ("postgresql://app@db.internal:5432/app?pgbouncer=false", False),
        ("postgresql://app@db.internal/app?pgbouncer=true&pgbouncer=0", False),
        ("postgresql://app@[::1]:6432/app", True),
        ("postgresql://app@db1:5432,db2:6432/app", True),
        ("postgresql://app@db.internal:notaport/app", False),
    ],
)
def test_poolers_are_recognised(url: str, pooled: bool) -> None:
    assert behind_pooler(parse_url(url)) is pooled


def test_the_pooler_flag_is_not_passed_to_libpq() -> None:
    url = without_pooler_flag(parse_url("postgresql://a@h/db?pgbouncer=true&sslmode=require"))
    assert url.params == [("sslmode", "require")]
    assert url.render() == "postgresql://a@h/db?sslmode=require"
    # Nor to SQLAlchemy, which hands its query to libpq too (Alembic's migrations).
    assert dict(sqlalchemy_url("postgresql://a@h/db?pgbouncer=1&sslmode=require").query) == {
        "sslmode": "require"
    }


def test_libpq_gets_the_rest_exactly_as_written() -> None:
    # libpq decodes %-escapes itself and reads "+" as a plus: nothing may be re-encoded.
    written = "postgres://u:p%40ss@h:5432/my%20db?options=-c%20statement_timeout%3D5s&pgbouncer=1"
    assert without_pooler_flag(parse_url(written)).render() == (
        "postgresql://u:p%40ss@h:5432/my%20db?options=-c%20statement_timeout%3D5s"
    )


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///rejoin.db",
        "sqlite:///./data/rejoin.db",
        "sqlite:////var/lib/rejoin/rejoin.db",
        "sqlite:///with%20space.db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://u:p%40ss@db.example:6543/games?sslmode=require",
        "postgresql://u@db.example/games",
        "postgresql:///games",
    ],
)
def test_urls_split_as_sqlalchemy_splits_them(url: str) -> None:
    ours, theirs = parse_url(url), make_url(url)
    assert ours.database == theirs.database
    if ours.postgres:
        assert ours.hosts == [(theirs.host or "", theirs.port)]


def test_sqlite_paths_are_resolved_against_the_working_directory() -> None:
    assert parse_url("sqlite:///rejoin.db").sqlite_file() == os.path.abspath("rejoin.db")
    assert parse_url("sqlite:///a/b.db").sqlite_file() == str(Path.cwd() / "a" / "b.db")
    assert parse_url("sqlite:////var/lib/rejoin.db").sqlite_file() == "/var/lib/rejoin.db"
    assert parse_url("sqlite+pysqlite:////x%20y.db").sqlite_file() == "/x y.db"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_cannot_hold_a_store(url: str) -> None:
    with pytest.raises(ValueError, match="each open their own connection"):
        SqlGameStore(url)


@pytest.mark.parametrize("url", ["sqlite:///rejoin.db?timeout=10", "sqlite://host/rejoin.db"])
def test_sqlite_urls_take_no_host_nor_parameters(url: str) -> None:
    with pytest.raises(ValueError, match="neither a host nor parameters"):
        SqlGameStore(url)


@pytest.mark.postgres
async def test_a_store_behind_a_pooler_works_without_prepared_statements(postgres_url: str) -> None:
    store = SqlGameStore(f"{postgres_url}?pgbouncer=true")
    await store.open()
    try:
        for n in range(8):  # more than psycopg's prepare_threshold (5) of one statement
            await store.create_game(f"pooled-{uuid.uuid4().hex[:8]}-{n}", "counter", {}, n)
        games = await store.list_games()
        assert len(games) >= 8

        def prepare_threshold(conn: Any) -> Any:
            return conn.prepare_threshold

        assert await store._reader.call(prepare_threshold) is None
    finally:
        await store.close()
