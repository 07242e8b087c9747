"""The databases of one run: a fresh PostgreSQL database and a temporary folder for SQLite files.

The PostgreSQL server comes from REJOIN_BENCH_POSTGRES_URL (default the test URL). The run creates
`rejoin_bench_<random>` there (`rejoin_testkit.postgres`) and drops it at the end, also when a
benchmark fails or is interrupted. Each benchmark gets its own SQLite file in the temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from rejoin_testkit.postgres import throwaway_database

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


# How the printouts name the two databases.
SQLITE = "SQLite"
POSTGRES = "PostgreSQL"


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
    with (
        throwaway_database(_libpq(server), prefix="rejoin_bench") as url,
        tempfile.TemporaryDirectory(prefix="rejoin_bench_") as folder,
    ):
        yield Databases(url, Path(folder))
