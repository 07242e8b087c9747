"""`GameStore` on a SQL database: SQLite (the embedded default) and PostgreSQL.

Two threads per store, each with its own connection: a writer that group-commits appends (see
`store.worker`) and a reader, so a restore never waits behind a batch of writes. Writes of any kind
go through the writer thread, reads through the reader.

Every statement is plain SQL on the driver's own connection: `sqlite3`, or psycopg 3 (imported
only for PostgreSQL), with the text in `_Dialect`. This module imports no SQLAlchemy, SQLModel or
pydantic, nor `store.tables`, which needs them, because start-up time is restart time: after a
kill -9 every player waits for the relaunched server, and those imports cost more than the rest
of the store together. Measured on the 2-core VM (medians of 5 runs, old and new interleaved):
`import rejoin_server.store.sql` took 424 ms with them and takes 73 ms without; `import
rejoin_server.app`, 1,097 ms and 375 ms. `store.tables` still defines the schema for the
migrations; the tests check the migrated schema against it, and that a running store never
imports them.

Transactions are explicit. SQLite connections run in autocommit mode (`isolation_level=None`) and
each unit of work opens its own: `BEGIN IMMEDIATE` on the writer (see `_transaction`), `BEGIN` on
the reader, so a load reads one consistent state. psycopg opens one at the first statement; a
commit or rollback ends it.

Fencing: an append is a compare-and-set on `games.last_seq` (the row must still hold the seq the
writer built on), and `(game_id, seq)` is the events' primary key. A second writer of the same
game fails with `SeqConflict`; history never forks.

Reconnect tokens: consuming one is `UPDATE … WHERE jti = ? AND consumed_at IS NULL`, and only the
call whose UPDATE changed the row stores the replacement. The database decides who wins, so this
holds across servers too: on PostgreSQL a concurrent UPDATE of the row waits for the first to
commit, then finds `consumed_at` set and changes nothing.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import orjson

from rejoin_server.errors import GameNotFound, SeqConflict
from rejoin_server.games.base import Event, GameStatus
from rejoin_server.store.base import (
    DEFAULT_KEEP_SNAPSHOTS,
    DEFAULT_KEY_ID,
    Deleted,
    Epoch,
    GameRecord,
    RawEvent,
    SnapshotWrite,
    StoredLog,
    StoredSnapshot,
    TokenRow,
    TokenUse,
    Usage,
)
from rejoin_server.store.quota import CompletedGame, quota_victims
from rejoin_server.store.urls import DatabaseUrl, behind_pooler, parse_url, without_pooler_flag
from rejoin_server.store.worker import DbWorker

if TYPE_CHECKING:
    import psycopg

    Connection: TypeAlias = sqlite3.Connection | psycopg.Connection[Any]

__all__ = ["DEFAULT_KEEP_SNAPSHOTS", "DEFAULT_KEY_ID", "SqlGameStore"]

# How long a SQLite connection waits for another's write lock before it fails.
_BUSY_TIMEOUT_MS = 5000
# SQLite limits the parameters of one statement; deleting many games goes in slices of this many.
_IDS_PER_STATEMENT = 500
# The tables that hold a game's rows, in the order they are deleted (rows pointing at a game
# before the game).
_GAME_TABLES = ("reconnect_tokens", "seat_claims", "events", "snapshots", "games")


# SQLite reports schema mistakes with the same exception class as I/O failures.
_SCHEMA_ERROR = re.compile(r"no such (table|column)|has no column named")


@dataclass(frozen=True, slots=True)
class _Append:
    game_id: str
    prev_seq: int  # the last_seq the games row must still hold (compare-and-set)
    events: Sequence[Event]
    status: GameStatus
    now_ms: int
    snapshot: SnapshotWrite | None
    data: Sequence[str]  # each event's data as JSON, encoded once
    action_id: str | None  # stored on the last event
    history: str | None  # the game's history epochs as JSON, when they change


@dataclass(frozen=True, slots=True)
class _TokenUse:
    """One `consume_token` call, as an item of a batch."""

    jti: str
    client_id: str
    now_ms: int
    replacement: TokenRow
    claim: str | None


class _BatchRejected(Exception):
    """A batch's fence failed somewhere; the worker retries its items one by one to find where."""


class _Dialect:
    """The SQL text of every statement, in each driver's parameter style."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        p = "%s" if postgres else "?"
        as_json = "%s::jsonb" if postgres else "?"
        # Snapshots are opaque blobs, read whole and never queried inside: plain `json` (text)
        # stores them in about 60% of the bytes JSONB takes for their short keys.
        as_json_text = "%s::json" if postgres else "?"
        self.json_text = "{}::text" if postgres else "{}"
        self.advance_game = (
            f"UPDATE games SET last_seq = {p}, status = {p}, updated_at = {p}, "
            f"completed_at = COALESCE(completed_at, {p}), events_bytes = events_bytes + {p}, "
            f"history = COALESCE({p}, history) WHERE game_id = {p} AND last_seq = {p}"
        )
        self.insert_event = (
            "INSERT INTO events (game_id, seq, kind, at, data, action_id) "
            f"VALUES ({p}, {p}, {p}, {p}, {as_json}, {p})"
        )
        self.upsert_snapshot = (
            f"INSERT INTO snapshots (game_id, version, state, checksum, created_at) "
            f"VALUES ({p}, {p}, {as_json_text}, {p}, {p}) ON CONFLICT (game_id, version) DO UPDATE SET "
            "state = excluded.state, checksum = excluded.checksum, created_at = excluded.created_at"
        )
        # Keep the newest K: delete everything at or below the (K+1)-th newest version.
        self.prune_snapshots = (
            f"DELETE FROM snapshots WHERE game_id = {p} AND version <= (SELECT version FROM "
            f"snapshots WHERE game_id = {p} ORDER BY version DESC LIMIT 1 OFFSET {p})"
        )
        self.last_seq = f"SELECT last_seq FROM games WHERE game_id = {p}"
        # PostgreSQL's batch append: advance every game whose last_seq still matches (the fence),
        # then insert the events of exactly the games that advanced.
        self.advance_and_insert = """
            WITH v AS (
                SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[],
                                     %s::bigint[], %s::text[], %s::text[], %s::bigint[])
                    AS v(last, status, now, completed, added, history, game_id, prev)
            ), adv AS (
                UPDATE games AS g SET last_seq = v.last, status = v.status, updated_at = v.now,
                    completed_at = COALESCE(g.completed_at, v.completed),
                    events_bytes = g.events_bytes + v.added,
                    history = COALESCE(v.history, g.history)
                FROM v WHERE g.game_id = v.game_id AND g.last_seq = v.prev
                RETURNING g.game_id
            ), ins AS (
                INSERT INTO events (game_id, seq, kind, at, data, action_id)
                SELECT e.game_id, e.seq, e.kind, e.at, e.data::jsonb, e.action_id
                FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::text[],
                            %s::text[])
                    AS e(game_id, seq, kind, at, data, action_id)
                WHERE e.game_id IN (SELECT game_id FROM adv)
            )
            SELECT game_id FROM adv"""
        game_columns = (
            "game_id, kind, " + self.json_text.format("settings") + ", status, created_at, "
            "updated_at, completed_at, last_seq, history"
        )
        self.game_row = f"SELECT {game_columns} FROM games WHERE game_id = {p}"
        self.games = f"SELECT {game_columns} FROM games ORDER BY created_at, game_id"
        self.games_with_status = (
            f"SELECT {game_columns} FROM games WHERE status = {p} ORDER BY created_at, game_id"
        )
        self.insert_game = (
            "INSERT INTO games (game_id, kind, settings, status, created_at, updated_at, "
            f"completed_at, last_seq, events_bytes) VALUES ({p}, {p}, {as_json}, {p}, {p}, {p}, "
            "NULL, 0, 0)"
        )
        self.snapshots = (
            "SELECT version, " + self.json_text.format("state") + ", checksum, created_at "
            f"FROM snapshots WHERE game_id = {p} ORDER BY version DESC"
        )
        self.events_after = (
            "SELECT seq, kind, at, " + self.json_text.format("data") + " FROM events "
            f"WHERE game_id = {p} AND seq > {p} ORDER BY seq"
        )
        self.recent_actions = (
            f"SELECT action_id, seq FROM events WHERE game_id = {p} AND action_id IS NOT NULL "
            f"ORDER BY seq DESC LIMIT {p}"
        )
        # Per game: its id, status, completion time and bytes of events and snapshots.
        state_bytes = "octet_length(state::text)" if postgres else "length(state)"
        self.game_bytes = (
            "SELECT g.game_id, g.status, g.completed_at, g.events_bytes + (SELECT "
            f"COALESCE(SUM({state_bytes}), 0) FROM snapshots AS s WHERE s.game_id = g.game_id) "
            "AS bytes FROM games AS g"
        )
        self.usage = f"SELECT count(*), COALESCE(SUM(bytes), 0) FROM ({self.game_bytes}) AS b"
        self.completed_before = (
            f"SELECT game_id FROM games WHERE status = 'completed' AND completed_at < {p} "
            "ORDER BY completed_at, game_id"
        )
        # TokenRow's fields are named and ordered as the table's columns: rows map straight back.
        token_columns = ", ".join(TokenRow.__dataclass_fields__)
        self.insert_token = (
            f"INSERT INTO reconnect_tokens ({token_columns}) VALUES ({', '.join([p] * 8)})"
        )
        self.token_row = f"SELECT {token_columns} FROM reconnect_tokens WHERE jti = {p}"
        self.current_token = (
            f"SELECT {token_columns} FROM reconnect_tokens WHERE game_id = {p} AND player_id = {p} "
            f"AND consumed_at IS NULL AND expires_at > {p} ORDER BY issued_at DESC, jti DESC LIMIT 1"
        )
        self.claim_seat = (
            "INSERT INTO seat_claims (game_id, player_id, claim, claimed_at) "
            f"VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (game_id, player_id) DO UPDATE SET "
            "claim = excluded.claim, claimed_at = excluded.claimed_at"
        )
        self.seat_claims = f"SELECT player_id, claim FROM seat_claims WHERE game_id = {p}"
        # The compare-and-set: only a row not consumed yet changes. The rows RETURNING hands back
        # are the UPDATE's row count (1: this call won) and the row as the winner stored it, with
        # no second read. Both databases have RETURNING (SQLite since 3.35).
        self.consume_token = (
            f"UPDATE reconnect_tokens SET consumed_at = {p}, client_id = {p}, next_jti = {p} "
            f"WHERE jti = {p} AND consumed_at IS NULL RETURNING {token_columns}"
        )
        # PostgreSQL: the consume, the replacement and the claim in one statement. Each data-
        # modifying part runs once; those selecting FROM `used` write nothing when the
        # compare-and-set changed no row (a loser).
        self.consume_token_at_once = (
            f"WITH used AS ({self.consume_token}), "
            f"fresh AS (INSERT INTO reconnect_tokens ({token_columns}) "
            f"SELECT {', '.join([p] * 8)} FROM used), "
            "claimed AS (INSERT INTO seat_claims (game_id, player_id, claim, claimed_at) "
            f"SELECT {p}, {p}, {p}::text, {p} FROM used WHERE {p}::text IS NOT NULL "
            "ON CONFLICT (game_id, player_id) DO UPDATE SET claim = excluded.claim, "
            "claimed_at = excluded.claimed_at) "
            f"SELECT {token_columns} FROM used"
        )
        self.delete_expired_tokens = f"DELETE FROM reconnect_tokens WHERE expires_at < {p}"
        self.signing_keys = "SELECT secret FROM signing_keys ORDER BY created_at DESC, key_id DESC"
        self.retire_keys = f"UPDATE signing_keys SET retired_at = {p} WHERE retired_at IS NULL"
        self.unretire_keys = "UPDATE signing_keys SET retired_at = NULL"
        self.keys_retired_at = "SELECT min(retired_at) FROM signing_keys"
        # Only into an empty table, and on the fixed id: of servers racing here, the first insert
        # wins and the others' conflict is a no-op, so all of them read back the same secret.
        self.store_first_key = (
            f"INSERT INTO signing_keys (key_id, secret, created_at) SELECT {p}, {p}, {p} "
            "WHERE NOT EXISTS (SELECT 1 FROM signing_keys) ON CONFLICT (key_id) DO NOTHING"
        )

    def delete_of_games(self, table: str, count: int) -> str:
        """Delete the rows of `table` that belong to `count` games, given as `game_ids_param`."""
        if self.postgres:
            return f"DELETE FROM {table} WHERE game_id = ANY(%s::text[])"
        return f"DELETE FROM {table} WHERE game_id IN ({', '.join(['?'] * count)})"

    def game_ids_param(self, game_ids: list[str]) -> Sequence[Any]:
        return [game_ids] if self.postgres else game_ids


class _SqlBackend:
    """The worker's view of one database (`store.worker.Backend`), and every unit of work the
    store runs on it, each a method taking the connection of the thread it runs on."""

    def __init__(self, url: DatabaseUrl, keep_snapshots: int) -> None:
        self._sql = _Dialect(url.postgres)
        self._keep = keep_snapshots
        # What the driver raises for a connection that is gone, and for a duplicate key.
        self._lost: tuple[type[Exception], ...] = (sqlite3.OperationalError, sqlite3.InterfaceError)
        self._duplicate: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
        self._connect_args: dict[str, Any] = {}
        if url.postgres:
            import psycopg  # here, not at the top: a server on SQLite never needs it

            self._lost += (psycopg.OperationalError, psycopg.InterfaceError)
            self._duplicate += (psycopg.IntegrityError,)
            self._target = without_pooler_flag(url).render()
            # connect_timeout bounds how long a vanished database stalls the writer before the
            # game goes degraded. Server-side prepared statements save about a third of an append
            # (measured: 0.70 ms against 1.09 ms), but transaction-mode poolers (PgBouncer,
            # Supabase's pooler) cannot route them: off behind a pooler.
            self._connect_args["connect_timeout"] = 3
            if behind_pooler(url):
                self._connect_args["prepare_threshold"] = None
        else:
            self._target = url.sqlite_file()

    def connect(self) -> Connection:
        if self._sql.postgres:
            import psycopg

            return psycopg.connect(self._target, **self._connect_args)
        # Autocommit mode: `_transaction` begins every transaction itself.
        conn = sqlite3.connect(self._target, isolation_level=None)
        try:
            # busy_timeout: wait for another connection's write lock instead of failing.
            # synchronous=NORMAL: a commit survives the process being killed (kill -9); only an
            # OS crash or power loss may lose the last commits.
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
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
        return isinstance(exc, self._lost)

    @contextmanager
    def _transaction(self, conn: Connection, *, write: bool) -> Iterator[Any]:
        """A cursor in a transaction of its own. A write commits when the block ends; a read
        rolls back (which ends it: PostgreSQL would hold it open otherwise); an error rolls
        back. On SQLite a write begins IMMEDIATE, taking the write lock before its first read:
        a deferred transaction that reads, then writes, fails at once (SQLITE_BUSY) when another
        connection wrote in between, where an immediate one waits its turn (busy_timeout)."""
        cursor: Any = conn.cursor()
        committed = False
        try:
            if not self._sql.postgres:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield cursor
            if write:
                conn.commit()
                committed = True
        finally:
            cursor.close()
            if not committed:
                conn.rollback()

    # --- appends (on the writer thread) ----------------------------------------------------------

    def write_batch(self, conn: Connection, items: list[_Append]) -> None:
        with self._transaction(conn, write=True) as cursor:
            try:
                if self._sql.postgres:
                    self._advance_postgres(cursor, items)
                else:
                    self._advance_sqlite(cursor, items)
            except self._duplicate as exc:
                if len(items) == 1 and items[0].events:
                    raise SeqConflict(items[0].game_id, items[0].events[0].seq) from exc
                raise
            for item in items:
                if item.snapshot is not None:
                    self._write_snapshot(cursor, item.game_id, item.snapshot, item.now_ms)

    def _advance_sqlite(self, cursor: Any, items: list[_Append]) -> None:
        # SQLite runs in-process: a statement per row costs microseconds, no round trips.
        cursor.executemany(self._sql.advance_game, [_advance_row(item) for item in items])
        if cursor.rowcount != len(items):
            raise self._fence_error(cursor, items)
        rows = [row for item in items for row in _event_rows(item)]
        if rows:
            cursor.executemany(self._sql.insert_event, rows)

    def _advance_postgres(self, cursor: Any, items: list[_Append]) -> None:
        # One statement per batch (arrays unnested server-side): a single round trip however
        # many games are in it. A game may appear twice in a batch; its second append must see
        # its first, so each round holds at most one append per game.
        for round_items in _rounds(items):
            advance = _columns([_advance_row(item) for item in round_items], width=8)
            events = _columns([row for item in round_items for row in _event_rows(item)], width=6)
            cursor.execute(self._sql.advance_and_insert, [*advance, *events])
            advanced = cursor.fetchall()
            if len(advanced) != len(round_items):
                raise self._fence_error(cursor, items)

    def _fence_error(self, cursor: Any, items: list[_Append]) -> Exception:
        if len(items) > 1:
            return _BatchRejected()
        item = items[0]
        cursor.execute(self._sql.last_seq, (item.game_id,))
        if cursor.fetchone() is None:
            return GameNotFound(item.game_id)
        return SeqConflict(item.game_id, item.prev_seq + 1)

    def _write_snapshot(self, cursor: Any, game_id: str, snap: SnapshotWrite, now_ms: int) -> None:
        cursor.execute(
            self._sql.upsert_snapshot,
            (game_id, snap.version, snap.state.decode(), snap.checksum, now_ms),
        )
        cursor.execute(self._sql.prune_snapshots, (game_id, game_id, self._keep))

    # --- reads (on the reader thread) -----------------------------------------------------------

    def load(self, conn: Connection, game_id: str) -> StoredLog:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.game_row, (game_id,))
            row = cursor.fetchone()
            if row is None:
                raise GameNotFound(game_id)
            game = _game_record(row)
            cursor.execute(self._sql.snapshots, (game_id,))
            snapshots = [StoredSnapshot(*r) for r in cursor.fetchall()]
            after = snapshots[0].version if snapshots else 0
            cursor.execute(self._sql.events_after, (game_id, after))
            events = [RawEvent(*r) for r in cursor.fetchall()]
            cursor.execute(self._sql.seat_claims, (game_id,))
            claims = {player_id: claim for player_id, claim in cursor.fetchall()}
            return StoredLog(game, snapshots, events, claims)

    def read_events(
        self, conn: Connection, game_id: str, after_seq: int, limit: int | None
    ) -> list[RawEvent]:
        sql = self._sql.events_after + (f" LIMIT {int(limit)}" if limit is not None else "")
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(sql, (game_id, after_seq))
            return [RawEvent(*r) for r in cursor.fetchall()]

    def recent_actions(self, conn: Connection, game_id: str, limit: int) -> dict[str, int]:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.recent_actions, (game_id, limit))
            rows = cursor.fetchall()
        found: dict[str, int] = {}
        for action_id, seq in reversed(rows):  # oldest first: a repeated id keeps its first seq
            found.setdefault(action_id, seq)
        return found

    def get_game(self, conn: Connection, game_id: str) -> GameRecord | None:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.game_row, (game_id,))
            row = cursor.fetchone()
        return None if row is None else _game_record(row)

    def list_games(self, conn: Connection, status: GameStatus | None) -> list[GameRecord]:
        with self._transaction(conn, write=False) as cursor:
            if status is None:
                cursor.execute(self._sql.games)
            else:
                cursor.execute(self._sql.games_with_status, (status,))
            return [_game_record(row) for row in cursor.fetchall()]

    def usage(self, conn: Connection) -> Usage:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.usage)
            games, size = cursor.fetchone()
        return Usage(int(games), int(size))

    def get_token(self, conn: Connection, jti: str) -> TokenRow | None:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.token_row, (jti,))
            row = cursor.fetchone()
        return None if row is None else TokenRow(*row)

    def current_token(
        self, conn: Connection, game_id: str, player_id: str, now_ms: int
    ) -> TokenRow | None:
        with self._transaction(conn, write=False) as cursor:
            cursor.execute(self._sql.current_token, (game_id, player_id, now_ms))
            row = cursor.fetchone()
        return None if row is None else TokenRow(*row)

    # --- other writes (on the writer thread, each its own transaction) ----------------------------

    def create_game(self, conn: Connection, record: GameRecord) -> None:
        with self._transaction(conn, write=True) as cursor:
            cursor.execute(
                self._sql.insert_game,
                (
                    record.game_id,
                    record.kind,
                    orjson.dumps(record.settings).decode(),
                    record.status,
                    record.created_at,
                    record.updated_at,
                ),
            )

    def delete_games(self, conn: Connection, game_ids: list[str]) -> Deleted:
        with self._transaction(conn, write=True) as cursor:
            return self._delete_games(cursor, game_ids)

    def evict_completed(self, conn: Connection, completed_before_ms: int) -> list[str]:
        with self._transaction(conn, write=True) as cursor:
            cursor.execute(self._sql.completed_before, (completed_before_ms,))
            game_ids = [game_id for (game_id,) in cursor.fetchall()]
            self._delete_games(cursor, game_ids)
            return game_ids

    def evict_for_quota(
        self, conn: Connection, max_games: int | None, max_bytes: int | None
    ) -> list[str]:
        with self._transaction(conn, write=True) as cursor:
            cursor.execute(self._sql.game_bytes)
            rows = [(game_id, status, done, int(size)) for game_id, status, done, size in cursor]
            victims = quota_victims(
                len(rows),
                sum(size for *_, size in rows),
                [
                    CompletedGame(game_id, done or 0, size)
                    for game_id, status, done, size in rows
                    if status == "completed"
                ],
                max_games,
                max_bytes,
            )
            self._delete_games(cursor, victims)
            return victims

    def _delete_games(self, cursor: Any, game_ids: list[str]) -> Deleted:
        counts = dict.fromkeys(_GAME_TABLES, 0)
        for start in range(0, len(game_ids), _IDS_PER_STATEMENT):
            some = game_ids[start : start + _IDS_PER_STATEMENT]
            for table in _GAME_TABLES:
                cursor.execute(
                    self._sql.delete_of_games(table, len(some)), self._sql.game_ids_param(some)
                )
                counts[table] += cursor.rowcount
        return Deleted(
            events=counts["events"],
            snapshots=counts["snapshots"],
            games=counts["games"],
            tokens=counts["reconnect_tokens"],
        )

    def insert_token(self, conn: Connection, row: TokenRow, claim: str | None) -> None:
        try:
            with self._transaction(conn, write=True) as cursor:
                cursor.execute(self._sql.insert_token, _token_params(row))
                if claim is not None:
                    self._claim_seat(cursor, row, claim)
        except self._duplicate as exc:
            raise _duplicate_token(row.jti) from exc

    def _claim_seat(self, cursor: Any, row: TokenRow, claim: str) -> None:
        cursor.execute(self._sql.claim_seat, (row.game_id, row.player_id, claim, row.issued_at))

    def consume_tokens(self, conn: Connection, uses: list[_TokenUse]) -> list[TokenUse]:
        """Each use in turn, all in one transaction (on the writer thread, batched: see
        `DbWorker.batched`). Two uses of one token in a batch meet as they would one after the
        other: the first wins, the second reads the row the first left."""
        # Row locks taken in jti order (a stable sort keeps two uses of one token in arrival
        # order): two servers' batches on one PostgreSQL then never wait for each other in a
        # circle. The answers go back in the callers' order.
        order = sorted(range(len(uses)), key=lambda i: uses[i].jti)
        results: dict[int, TokenUse] = {}
        try:
            with self._transaction(conn, write=True) as cursor:
                for i in order:
                    results[i] = self._consume_token(cursor, uses[i])
                return [results[i] for i in range(len(uses))]
        except self._duplicate as exc:
            raise _duplicate_token(uses[0].replacement.jti if len(uses) == 1 else "?") from exc

    def _consume_token(self, cursor: Any, use: _TokenUse) -> TokenUse:
        replacement = use.replacement
        consumed = (use.now_ms, use.client_id, replacement.jti, use.jti)
        if self._sql.postgres:
            # One round trip for the compare-and-set, the replacement and the claim: a restart's
            # storm of a thousand resumes pays it a thousand times.
            claim = (replacement.game_id, replacement.player_id, use.claim, replacement.issued_at)
            cursor.execute(
                self._sql.consume_token_at_once,
                (*consumed, *_token_params(replacement), *claim, use.claim),
            )
            changed = cursor.fetchall()
        else:
            cursor.execute(self._sql.consume_token, consumed)
            changed = cursor.fetchall()  # SQLite finishes the UPDATE only once it is read out
            if len(changed) == 1:
                cursor.execute(self._sql.insert_token, _token_params(replacement))
                if use.claim is not None:
                    self._claim_seat(cursor, replacement, use.claim)
        if len(changed) == 1:
            return TokenUse(won=True, row=TokenRow(*changed[0]))
        # Lost (or no such token): read the row as the winner left it. On PostgreSQL this
        # statement sees what the winner committed while our UPDATE waited for it.
        cursor.execute(self._sql.token_row, (use.jti,))
        row = cursor.fetchone()
        return TokenUse(won=False, row=None if row is None else TokenRow(*row))

    def delete_expired_tokens(self, conn: Connection, before_ms: int) -> int:
        with self._transaction(conn, write=True) as cursor:
            cursor.execute(self._sql.delete_expired_tokens, (before_ms,))
            return int(cursor.rowcount)

    def signing_keys(self, conn: Connection, candidate: str | None, now_ms: int) -> list[str]:
        with self._transaction(conn, write=True) as cursor:
            cursor.execute(self._sql.signing_keys)
            secrets = [secret for (secret,) in cursor.fetchall()]
            if secrets or candidate is None:
                return secrets
            cursor.execute(self._sql.store_first_key, (DEFAULT_KEY_ID, candidate, now_ms))
            cursor.execute(self._sql.signing_keys)
            return [secret for (secret,) in cursor.fetchall()]

    def retire_signing_keys(self, conn: Connection, since_ms: int | None) -> int | None:
        with self._transaction(conn, write=True) as cursor:
            if since_ms is None:
                cursor.execute(self._sql.unretire_keys)
            else:
                cursor.execute(self._sql.retire_keys, (since_ms,))
            cursor.execute(self._sql.keys_retired_at)
            (retired_at,) = cursor.fetchone()
            return None if retired_at is None else int(retired_at)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it stays so), in which readers never block the writer.

    The switch, made once per file, needs an exclusive lock, and while another connection holds
    the write lock SQLite refuses it at once ("database is locked") instead of waiting, since
    waiting could deadlock. Two connections opening a new file together (a store's reader and
    writer, or two servers) meet exactly that, so the switch is retried for as long as
    busy_timeout would have waited. A file already in WAL mode answers at once."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)


def _advance_row(item: _Append) -> tuple[Any, ...]:
    last = item.events[-1].seq if item.events else item.prev_seq
    completed_at = item.now_ms if item.status == "completed" else None
    added = sum(len(text) for text in item.data)
    return (
        last,
        item.status,
        item.now_ms,
        completed_at,
        added,
        item.history,
        item.game_id,
        item.prev_seq,
    )


def _event_rows(item: _Append) -> list[tuple[Any, ...]]:
    last = len(item.events) - 1
    return [
        (item.game_id, e.seq, e.kind, e.at, text, item.action_id if i == last else None)
        for i, (e, text) in enumerate(zip(item.events, item.data, strict=True))
    ]


def _token_params(row: TokenRow) -> tuple[Any, ...]:
    return (
        row.jti,
        row.game_id,
        row.player_id,
        row.issued_at,
        row.expires_at,
        row.consumed_at,
        row.client_id,
        row.next_jti,
    )


def _duplicate_token(jti: str) -> ValueError:
    return ValueError(f"reconnect token {jti!r} is already stored")


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to columns, the shape `unnest` takes."""
    return [[row[i] for row in rows] for i in range(width)]


def _rounds(items: list[_Append]) -> list[list[_Append]]:
    """Split a batch so that no game appears twice in a round, keeping each game's order."""
    rounds: list[list[_Append]] = []
    seen: dict[str, int] = {}
    for item in items:
        index = seen.get(item.game_id, 0)
        seen[item.game_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(item)
    return rounds


def _game_record(row: Sequence[Any]) -> GameRecord:
    settings = orjson.loads(row[2]) if isinstance(row[2], str | bytes) else row[2]
    history = tuple((str(epoch), int(first)) for epoch, first in orjson.loads(row[8] or "[]"))
    return GameRecord(
        game_id=row[0],
        kind=row[1],
        settings=settings,
        status=row[3],
        created_at=row[4],
        updated_at=row[5],
        completed_at=row[6],
        last_seq=row[7],
        history=history,
    )


class SqlGameStore:
    """A `GameStore` on SQLite or PostgreSQL, chosen by the URL (DESIGN §7 forms). An in-memory
    SQLite URL is refused (ValueError): the reader and the writer would see two databases."""

    def __init__(self, url: str, *, keep_snapshots: int = DEFAULT_KEEP_SNAPSHOTS) -> None:
        if keep_snapshots < 1:
            raise ValueError("keep_snapshots must be at least 1")
        self.url = parse_url(url)
        self.postgres = self.url.postgres
        self._backend = _SqlBackend(self.url, keep_snapshots)
        self._writer: DbWorker[Connection, _Append] = DbWorker(self._backend, "rejoin-db-writer")
        self._reader: DbWorker[Connection, _Append] = DbWorker(self._backend, "rejoin-db-reader")

    async def open(self) -> None:
        self._writer.start()
        self._reader.start()

    async def close(self) -> None:
        await self._writer.stop()
        await self._reader.stop()

    async def create_game(
        self, game_id: str, kind: str, settings: Mapping[str, Any], now_ms: int
    ) -> GameRecord:
        record = GameRecord(game_id, kind, dict(settings), "waiting", now_ms, now_ms, None, 0)
        await self._writer.call(lambda conn: self._backend.create_game(conn, record))
        return record

    async def append(
        self,
        game_id: str,
        events: Sequence[Event],
        *,
        status: GameStatus,
        now_ms: int,
        snapshot: SnapshotWrite | None = None,
        action_id: str | None = None,
        history: Sequence[Epoch] | None = None,
    ) -> None:
        if events:
            prev = events[0].seq - 1
        elif snapshot is not None:
            prev = snapshot.version
        else:
            return
        data = [orjson.dumps(e.data).decode() for e in events]
        epochs = None if history is None else orjson.dumps([list(e) for e in history]).decode()
        await self._writer.write(
            _Append(game_id, prev, events, status, now_ms, snapshot, data, action_id, epochs)
        )

    async def load(self, game_id: str) -> StoredLog:
        return await self._reader.call(lambda conn: self._backend.load(conn, game_id))

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        return await self._reader.call(
            lambda conn: self._backend.read_events(conn, game_id, after_seq, limit)
        )

    async def recent_actions(self, game_id: str, limit: int = 1000) -> dict[str, int]:
        if limit <= 0:
            return {}
        return await self._reader.call(
            lambda conn: self._backend.recent_actions(conn, game_id, limit)
        )

    async def get_game(self, game_id: str) -> GameRecord | None:
        return await self._reader.call(lambda conn: self._backend.get_game(conn, game_id))

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]:
        return await self._reader.call(lambda conn: self._backend.list_games(conn, status))

    async def delete_game(self, game_id: str) -> Deleted:
        return await self._writer.call(lambda conn: self._backend.delete_games(conn, [game_id]))

    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        return await self._writer.call(
            lambda conn: self._backend.evict_completed(conn, completed_before_ms)
        )

    async def usage(self) -> Usage:
        return await self._reader.call(self._backend.usage)

    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        return await self._writer.call(
            lambda conn: self._backend.evict_for_quota(conn, max_games, max_bytes)
        )

    # --- reconnect tokens and signing keys ------------------------------------------------------

    async def insert_token(self, row: TokenRow, *, claim: str | None = None) -> None:
        await self._writer.call(lambda conn: self._backend.insert_token(conn, row, claim))

    async def consume_token(
        self,
        jti: str,
        *,
        client_id: str,
        now_ms: int,
        replacement: TokenRow,
        claim: str | None = None,
    ) -> TokenUse:
        use = _TokenUse(jti, client_id, now_ms, replacement, claim)
        return await self._writer.batched(self._backend.consume_tokens, use)

    async def get_token(self, jti: str) -> TokenRow | None:
        return await self._reader.call(lambda conn: self._backend.get_token(conn, jti))

    async def current_token(self, game_id: str, player_id: str, now_ms: int) -> TokenRow | None:
        return await self._reader.call(
            lambda conn: self._backend.current_token(conn, game_id, player_id, now_ms)
        )

    async def delete_expired_tokens(self, before_ms: int) -> int:
        return await self._writer.call(
            lambda conn: self._backend.delete_expired_tokens(conn, before_ms)
        )

    async def signing_keys(self, candidate: str | None, now_ms: int) -> list[str]:
        return await self._writer.call(
            lambda conn: self._backend.signing_keys(conn, candidate, now_ms)
        )

    async def retire_signing_keys(self, since_ms: int | None) -> int | None:
        return await self._writer.call(
            lambda conn: self._backend.retire_signing_keys(conn, since_ms)
        )
