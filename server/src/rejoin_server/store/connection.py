"""One SQL database as the store's threads use it: connecting, transactions, and telling a lost
connection from a mistake.

Every statement is plain SQL on the driver's own connection: `sqlite3`, or psycopg 3 (imported only
for PostgreSQL). Transactions are explicit. Connections run in autocommit mode (SQLite's
`isolation_level=None`, psycopg's `autocommit`) and each unit of work opens its own
(`Database.transaction`): `BEGIN IMMEDIATE` on SQLite's writer, `BEGIN` elsewhere, so a SQLite load
reads one consistent state. A unit of work that is one statement may skip it on PostgreSQL
(`Database.statement`): the statement is its own transaction, and saves the round trips of BEGIN
and COMMIT.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

from rejoin_server.store.postgres import PostgresStatements
from rejoin_server.store.statements import Statements
from rejoin_server.store.urls import DatabaseUrl, behind_pooler, without_pooler_flag

if TYPE_CHECKING:
    import psycopg

    Connection: TypeAlias = sqlite3.Connection | psycopg.Connection[Any]

# How long a SQLite connection waits for another's write lock before it fails.
BUSY_TIMEOUT_MS = 5000

# SQLite reports schema mistakes with the same exception class as I/O failures.
_SCHEMA_ERROR = re.compile(r"no such (table|column)|has no column named")


# PostgreSQL ends a transaction idle for this long (see `Database.__init__`).
IDLE_IN_TRANSACTION_MS = 5000


class Database:
    """How to reach one database, the statements it runs, and the store's settings for it. The
    store's units of work (`store.appends`, `store.reads`, `store.tokens`, `store.removal`) each
    take one, and the connection of the thread they run on."""

    def __init__(self, url: DatabaseUrl, keep_snapshots: int) -> None:
        self.keep_snapshots = keep_snapshots
        # `pg` is set on PostgreSQL only: the statements that need no per-row round trips.
        self.pg: PostgresStatements | None = PostgresStatements() if url.postgres else None
        self.sql: Statements = self.pg or Statements(postgres=False)
        # What the driver raises for a connection that is gone, and for a duplicate key.
        self.lost: tuple[type[Exception], ...] = (sqlite3.OperationalError, sqlite3.InterfaceError)
        self.duplicate: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
        self._connect_args: dict[str, Any] = {}
        if url.postgres:
            import psycopg  # here, not at the top: a server on SQLite never needs it

            self.lost += (psycopg.OperationalError, psycopg.InterfaceError)
            self.duplicate += (psycopg.IntegrityError,)
            self._target = without_pooler_flag(url).render()
            # connect_timeout bounds how long a vanished database stalls the writer before the
            # game goes degraded. Server-side prepared statements save about a third of an append
            # (measured: 0.70 ms against 1.09 ms), but transaction-mode poolers (PgBouncer,
            # Supabase's pooler) cannot route them: off behind a pooler.
            self._connect_args["connect_timeout"] = 3
            if behind_pooler(url):
                self._connect_args["prepare_threshold"] = None
            else:
                # A transaction left open by a process that was paused mid-write (SIGSTOP, a
                # frozen VM) holds its rows' locks: PostgreSQL ends it after this long, so the
                # cluster's other nodes can take those games (docs/cluster.md). A pooler ignores
                # startup options: set it on the role there.
                self._connect_args["options"] = (
                    f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
                )
        else:
            self._target = url.sqlite_file()

    def connect(self) -> Connection:
        if self.pg is not None:
            import psycopg

            return psycopg.connect(self._target, autocommit=True, **self._connect_args)
        # Autocommit mode: `transaction` begins every transaction itself.
        conn = sqlite3.connect(self._target, isolation_level=None)
        try:
            # busy_timeout: wait for another connection's write lock instead of failing.
            # synchronous=NORMAL: a commit survives the process being killed (kill -9); only an
            # OS crash or power loss may lose the last commits.
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def disconnect(self, conn: Connection) -> None:
        conn.close()

    def is_connection_error(self, exc: BaseException) -> bool:
        if isinstance(exc, sqlite3.OperationalError) and _SCHEMA_ERROR.search(str(exc)):
            # A missing table or column is a schema problem (run the migrations), not a database
            # that went away: it must not look like degraded mode and be retried for ever.
            return False
        return isinstance(exc, self.lost)

    @contextmanager
    def transaction(self, conn: Connection, *, write: bool) -> Iterator[Any]:
        """A cursor for one unit of work: a write in a transaction of its own, committed when the
        block ends and rolled back on an error; a read likewise on SQLite (rolled back, which
        ends it), and on PostgreSQL its statements run alone (see below). On SQLite a write
        begins IMMEDIATE, taking the write lock before its first read: a deferred transaction
        that reads, then writes, fails at once (SQLITE_BUSY) when another connection wrote in
        between, where an immediate one waits its turn (busy_timeout).

        A PostgreSQL write begins READ COMMITTED, said in its BEGIN rather than taken from the
        server's default: a token's compare-and-set relies on it (a concurrent use waits for the
        first to commit, then sees it), and a startup option would not pass a pooler. A read runs
        outside a transaction (`statement`): at READ COMMITTED every statement of a transaction
        sees the rows committed when it starts, as it does alone, so BEGIN and ROLLBACK would only
        add their round trips. (A read of several statements therefore never shares one
        snapshot; the store's reads do not need one: a game is read once its node owns it.)"""
        if not write and self.pg is not None:
            with self.statement(conn) as alone:
                yield alone
            return
        cursor: Any = conn.cursor()
        committed = False
        try:
            if self.pg is not None:
                cursor.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            else:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield cursor
            if write:
                conn.commit()
                committed = True
        finally:
            cursor.close()
            if not committed:
                conn.rollback()

    @contextmanager
    def statement(self, conn: Connection) -> Iterator[Any]:
        """A cursor outside any transaction, for a unit of work of one statement on PostgreSQL:
        autocommit makes that statement a transaction of its own, committed (and durable) when its
        answer arrives, or undone whole when it fails."""
        assert self.pg is not None, "SQLite's units of work each begin their own transaction"
        cursor: Any = conn.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it stays so), in which readers never block the writer.

    The switch, made once per file, needs an exclusive lock, and while another connection holds
    the write lock SQLite refuses it at once ("database is locked") instead of waiting, since
    waiting could deadlock. Two connections opening a new file together (a store's reader and
    writer, or two servers) meet exactly that, so the switch is retried for as long as
    busy_timeout would have waited. A file already in WAL mode answers at once."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)
