"""Database URLs as DESIGN §7 and hosted providers write them."""

from __future__ import annotations

import pytest

from rejoin_server.store.urls import behind_pooler, sqlalchemy_url, without_pooler_flag


def test_postgres_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u@h:5432/db", "postgres://u:pw@h/db"):
        assert sqlalchemy_url(url).drivername == "postgresql+psycopg"
    assert sqlalchemy_url("sqlite:///./rejoin.db").drivername == "sqlite"


def test_other_databases_are_refused_with_the_forms_to_use() -> None:
    with pytest.raises(ValueError, match=r"sqlite:///path/to/file.db or postgresql://"):
        sqlalchemy_url("mysql://root@localhost/db")


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", False),
        ("postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres", True),
        ("postgresql://app@db.internal:6432/app", True),
        ("postgresql://app@db.internal:5432/app?pgbouncer=true", True),
        ("postgresql://app@db.internal:5432/app?pgbouncer=false", False),
    ],
)
def test_poolers_are_recognised(url: str, pooled: bool) -> None:
    assert behind_pooler(sqlalchemy_url(url)) is pooled


def test_the_pooler_flag_is_not_passed_to_libpq() -> None:
    url = without_pooler_flag(sqlalchemy_url("postgresql://a@h/db?pgbouncer=true&sslmode=require"))
    assert dict(url.query) == {"sslmode": "require"}
