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


# Ports of PgBouncer (6432) and of Supabase's transaction-mode pooler (6543).
_POOLER_PORTS = frozenset({6432, 6543})


def behind_pooler(url: URL) -> bool:
    """Whether a PostgreSQL URL goes through a connection pooler in transaction mode, which cannot
    route server-side prepared statements: a `pgbouncer=true` query parameter (Prisma's convention),
    a pooler's port, or a host named like one (Supabase: `….pooler.supabase.com`)."""
    flag = url.query.get("pgbouncer", "")
    if isinstance(flag, tuple):
        flag = flag[-1]
    return (
        flag.lower() in ("1", "true", "yes")
        or url.port in _POOLER_PORTS
        or "pooler" in (url.host or "")
    )


def without_pooler_flag(url: URL) -> URL:
    """libpq refuses query parameters it does not know; `pgbouncer` is ours."""
    return url.difference_update_query(["pgbouncer"])
