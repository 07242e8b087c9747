"""Database URLs as users write them (docs/operations.md), read with the standard library.

The forms: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, and `postgresql://…` (also
`postgres://…`, as hosted providers print it, and any `+driver` suffix: psycopg 3 is always used).
The server opens its connections with the drivers alone (`store.sql`, `migrate.is_current`), so
this module must not import SQLAlchemy: only `sqlalchemy_url`, for Alembic, imports it, when called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_FORMS = "use sqlite:///path/to/file.db or postgresql://user@host:5432/db."
# Ports of PgBouncer (6432) and of Supabase's transaction-mode pooler (6543).
_POOLER_PORTS = frozenset({6432, 6543})
_POOLER_FLAG = "pgbouncer"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL split as SQLAlchemy splits one (the part between `://` and the first `/` is
    the location, up to `?` the database), its parts kept as written (percent-encoded)."""

    postgres: bool
    netloc: str  # user:password@host:port (hosts, for PostgreSQL: h1:p1,h2:p2)
    path: str  # "" or "/" + the database, as written
    query: str  # after "?", as written

    @property
    def database(self) -> str | None:
        """The database name, or SQLite's file path as written (relative to the working
        directory unless it starts with `/`); None when the URL names none."""
        return unquote(self.path[1:]) if self.path[1:] else None

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    @property
    def hosts(self) -> list[tuple[str, int | None]]:
        """(host, port) of each host the URL names, hosts lowercased; a port that is not a
        number is None here (libpq reports it when connecting)."""
        found: list[tuple[str, int | None]] = []
        for part in self.netloc.rpartition("@")[2].split(","):
            if part.startswith("["):  # [IPv6]:port
                host, _, rest = part[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else ""
            else:
                host, _, port = part.partition(":")
            found.append((unquote(host).lower(), int(port) if port.isdigit() else None))
        return found

    def render(self) -> str:
        """The URL again, normalised: `postgresql://` or `sqlite://`, no driver suffix. For
        PostgreSQL this is a connection URI libpq reads itself (it decodes the `%` escapes)."""
        scheme = "postgresql" if self.postgres else "sqlite"
        return f"{scheme}://{self.netloc}{self.path}" + (f"?{self.query}" if self.query else "")

    def sqlite_file(self) -> str:
        """SQLite's database as an absolute path (resolved against the working directory now, as
        SQLAlchemy did). Refuses what two connections cannot share: an in-memory database."""
        if self.postgres:
            raise ValueError("not a SQLite URL")
        database = self.database
        if database is None or database == ":memory:":
            raise ValueError(
                f"An in-memory SQLite database ({mask(self.render())!r}) cannot hold rejoin's "
                "games: the store's reader and writer each open their own connection, and each "
                "would see a different, empty database. Use a file: sqlite:///path/to/file.db."
            )
        if self.netloc or self.query:
            raise ValueError(
                f"Unsupported SQLite URL {mask(self.render())!r}: it takes neither a host nor "
                "parameters. Use sqlite:///relative/path.db or sqlite:////absolute/path.db."
            )
        return os.path.abspath(database)


def parse_url(url: str) -> DatabaseUrl:
    """Split a database URL (docs/operations.md); anything but SQLite and PostgreSQL raises ValueError."""
    scheme, sep, rest = url.partition("://")
    backend = scheme.partition("+")[0].lower()
    if not sep or backend not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"Unsupported database URL {mask(url)!r}: {_FORMS}")
    location, _, query = rest.partition("?")
    netloc, slash, database = location.partition("/")
    return DatabaseUrl(backend != "sqlite", netloc, slash + database, query)


def behind_pooler(url: DatabaseUrl) -> bool:
    """Whether a PostgreSQL URL goes through a connection pooler in transaction mode, which cannot
    route server-side prepared statements: a `pgbouncer=true` query parameter (Prisma's convention),
    a pooler's port, or a host named like one (Supabase: `….pooler.supabase.com`)."""
    flags = [value for key, value in url.params if key == _POOLER_FLAG]
    return (
        (bool(flags) and flags[-1].lower() in ("1", "true", "yes"))
        or any(port in _POOLER_PORTS for _, port in url.hosts)
        or any("pooler" in host for host, _ in url.hosts)
    )


def without_pooler_flag(url: DatabaseUrl) -> DatabaseUrl:
    """libpq refuses query parameters it does not know; `pgbouncer` is ours. The other parameters
    are kept exactly as written (re-encoding could change them: libpq reads `+` as a plus)."""
    kept = [
        part
        for part in url.query.split("&")
        if part and unquote(part.partition("=")[0]) != _POOLER_FLAG
    ]
    return replace(url, query="&".join(kept))


def mask(url: str) -> str:
    """The URL with the password of its user part replaced by ***, for messages."""
    _, sep, rest = url.partition("://")
    userinfo, at, _ = rest.partition("/")[0].partition("?")[0].rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return url.replace(userinfo, userinfo.partition(":")[0] + ":***", 1)


def sqlalchemy_url(url: str) -> URL:
    """The URL as SQLAlchemy takes it, for Alembic's migrations (a cold path: SQLAlchemy is
    imported here, when called): psycopg 3 for PostgreSQL, without the pooler flag libpq would
    refuse; the standard library's sqlite3 for SQLite. Anything else is refused."""
    from sqlalchemy.engine import make_url

    parsed = parse_url(url)
    if parsed.postgres:
        parsed = without_pooler_flag(parsed)
    return make_url(parsed.render()).set(
        drivername="postgresql+psycopg" if parsed.postgres else "sqlite"
    )
