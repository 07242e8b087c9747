"""Database URLs as users write them (DESIGN §7), turned into what SQLAlchemy takes."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def sqlalchemy_url(url: str) -> URL:
    """`postgresql://…` (and `postgres://…`, as hosted providers print it) use psycopg 3;
    `sqlite:///path` uses the standard library's sqlite3. Anything else is refused."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    raise ValueError(
        f"Unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path/to/file.db or postgresql://user@host:5432/db."
    )


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"
