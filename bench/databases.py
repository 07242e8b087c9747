"""The databases of one run: a fresh PostgreSQL database and a temporary folder for SQLite files.

The PostgreSQL server comes from REJOIN_BENCH_POSTGRES_URL (default the test URL). The run creates
`rejoin_bench_<random>` there and drops it at the end, also when a benchmark fails or is
interrupted. Each benchmark gets its own SQLite file in the temporary folder.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Databases:
    postgres_url: str  # the run's own database
    sqlite_dir: Path

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.sqlite_dir / name}.db"

    def sqlite_path(self, name: str) -> Path:
        return self.sqlite_dir / f"{name}.db"

    @property
    def postgres(self) -> URL:
        return make_url(self.postgres_url)


def _libpq(url: URL) -> str:
    """A URL psycopg accepts (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def bench_databases() -> Iterator[Databases]:
    server = make_url(
        os.environ.get("REJOIN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL).replace(
            "postgres://", "postgresql://", 1
        )
    )
    name = f"rejoin_bench_{secrets.token_hex(4)}"
    admin = _libpq(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory(prefix="rejoin_bench_") as folder:
            yield Databases(_libpq(server.set(database=name)), Path(folder))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
