"""A SQLite database is served by one process: a second `rejoin-server` on the same file refuses
to start.

Two servers on one SQLite file would each host the same games in memory, each with its own clocks
and sockets, and each append on top of the other's events: the fencing that keeps one owner per
game needs a coordinator, and that is PostgreSQL's job (run several nodes on PostgreSQL). So the
server holds an exclusive `flock` on its SQLite file for as long as it runs. The kernel drops it
when the process ends, however it ends (kill -9 included), so a restart never waits on a stale
lock; and `flock` is independent of the byte-range locks SQLite takes on the same file (Linux and
macOS), so it never gets in the store's way. It does not hold over NFS, where SQLite itself is
not safe either.
"""

from __future__ import annotations

import fcntl
import os

from rejoin_server.store.urls import parse_url


class DatabaseInUse(Exception):
    """Another process serves this SQLite file."""


class SqliteHold:
    """The lock on one SQLite file, held until `release` (or the process ends)."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the lock
            self._fd = None


def hold_sqlite_file(url: str) -> SqliteHold | None:
    """Lock the SQLite file of `url` for this process (None for PostgreSQL, or a database that is
    not a file). The file must exist: the server migrates (creates) it first. Raises
    `DatabaseInUse` when another process holds it."""
    database = parse_url(url)
    path = database.database
    if database.postgres or path is None or path == ":memory:":
        return None
    # Read-only is enough for flock, so a file the server may not write still gets the store's
    # own error (when it first writes), not one from here.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(
            f"another rejoin-server is serving the SQLite database {os.path.abspath(path)}: a "
            "SQLite file is served by one process (stop that one first, or run several nodes "
            "on one PostgreSQL database)"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return SqliteHold(fd)
