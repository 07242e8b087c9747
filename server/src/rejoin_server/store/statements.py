"""The SQL text of the SQL store's statements, built from `store.schema` and the row types.

Column lists are never written out here: an INSERT names the fields of the row tuple it is given
(`store.rows`), a SELECT the fields of the record it reads into (`store.base`), and every name is
looked up in the schema when the text is built, so a misspelt or dropped column fails at import.
What the schema also decides: which values are JSON, cast on PostgreSQL (`%s::jsonb` in, `::text`
out: the store hands JSON on as text, undecoded). Conditions and aggregates stay written out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from rejoin_server.store.base import GameRecord, RawEvent, StoredSnapshot, TokenRow
from rejoin_server.store.rows import (
    FENCE,
    EventRow,
    GameAdvance,
    NewGame,
    SeatClaimRow,
    SigningKeyRow,
    SnapshotRow,
    TokenConsumed,
)
from rejoin_server.store.schema import (
    EVENTS,
    GAMES,
    RECONNECT_TOKENS,
    SEAT_CLAIMS,
    SIGNING_KEYS,
    SNAPSHOTS,
    Table,
)

# How an append changes each column of the games row it advances: `{old}` is the stored value,
# `{new}` the append's (`GameAdvance`), `{row}` the prefix of the row's other columns. A column not
# named here takes the new value.
ADVANCE = {
    # Set once: the first completion time stays while the game stays completed. An append that
    # is not completed (`{new}` NULL) clears it: an operator's rollback may reopen a completed
    # game (`POST …/rollback` with `reopen`). `{new}` once (SQLite's placeholders are positional).
    "completed_at": "(SELECT CASE WHEN n IS NULL THEN NULL ELSE COALESCE({old}, n) END "
    "FROM (SELECT CAST({new} AS BIGINT) AS n) AS t)",
    "events_bytes": "{old} + {new}",
    "history": "COALESCE({new}, {old})",  # no new epochs: the stored ones stay
    "seating": "COALESCE({new}, {old})",  # unchanged seating is not sent again
    # 1 * created_at while open, 0 when not, NULL (unchanged) keeps it: one parameter, so the
    # host need not know when the game was created.
    "open_at": "COALESCE({new} * {row}created_at, {old})",
}


def names_of(record: type[Any]) -> tuple[str, ...]:
    """The fields of a dataclass record, in order: the columns a SELECT reads into it."""
    return tuple(f.name for f in fields(record))


GAME_FIELDS = names_of(GameRecord)
TOKEN_FIELDS = names_of(TokenRow)
# `problem` is what opening its sealed values found (`store.sealing`), not a column.
SNAPSHOT_FIELDS = tuple(
    name for name in names_of(StoredSnapshot) if name not in ("problem", "stored_bytes")
)
EVENT_FIELDS = tuple(name for name in names_of(RawEvent) if name != "problem")


class Dialect:
    """One driver's placeholder and JSON casts, and the statement shapes built from them."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.p = "%s" if postgres else "?"

    def value(self, table: Table, name: str) -> str:
        """The placeholder of a value for column `name`, cast to JSON where PostgreSQL needs it."""
        kind = table.column(name).type
        if self.postgres and kind in ("json", "jsonb"):
            return f"%s::{kind}"
        return self.p

    def read(self, table: Table, name: str, alias: str = "") -> str:
        """Column `name` as a SELECT reads it: JSON as its text (psycopg would decode it)."""
        column = f"{alias}{name}"
        if self.postgres and table.column(name).type in ("json", "jsonb"):
            return f"{column}::text"
        return column

    def columns(self, table: Table, names: Iterable[str]) -> str:
        return ", ".join(table.column(name).name for name in names)

    def select(self, table: Table, names: Sequence[str]) -> str:
        return f"SELECT {', '.join(self.read(table, n) for n in names)} FROM {table.name}"

    def values(self, table: Table, names: Sequence[str]) -> str:
        return ", ".join(self.value(table, name) for name in names)

    def insert(self, table: Table, names: Sequence[str]) -> str:
        return (
            f"INSERT INTO {table.name} ({self.columns(table, names)}) "
            f"VALUES ({self.values(table, names)})"
        )

    def upsert(self, table: Table, names: Sequence[str]) -> str:
        """An INSERT that overwrites the row with the same primary key."""
        return f"{self.insert(table, names)} {self.overwrite(table, names)}"

    def overwrite(self, table: Table, names: Sequence[str]) -> str:
        """The clause that turns an INSERT of `names` into an upsert on the primary key."""
        key = [c.name for c in table.columns if c.primary_key]
        changed = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
        return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {changed}"

    def advance_set(self, old: str, new: str) -> str:
        """The SET list of the games row an append advances (`ADVANCE`); `old` and `new` say
        where a column's stored and new values are ("{}" is the column's name)."""
        sets = []
        for name in GameAdvance._fields:
            if name in FENCE:
                continue
            column = GAMES.column(name).name
            change = ADVANCE.get(column, "{new}").format(
                old=old.format(column), new=new.format(column), row=old.format("")
            )
            sets.append(f"{column} = {change}")
        return ", ".join(sets)


class Statements(Dialect):
    """Every statement both databases run, in the driver's parameter style."""

    def __init__(self, postgres: bool) -> None:
        super().__init__(postgres)
        p = self.p
        # --- appends
        self.advance_game = (
            f"UPDATE games SET {self.advance_set('{}', p)} WHERE game_id = {p} AND last_seq = {p} "
            f"AND owner_epoch = COALESCE({p}, owner_epoch)"
        )
        self.insert_event = self.insert(EVENTS, EventRow._fields)
        self.upsert_snapshot = self.upsert(SNAPSHOTS, SnapshotRow._fields)
        # Keep the newest K: delete everything at or below the (K+1)-th newest version.
        self.prune_snapshots = (
            f"DELETE FROM snapshots WHERE game_id = {p} AND version <= (SELECT version FROM "
            f"snapshots WHERE game_id = {p} ORDER BY version DESC LIMIT 1 OFFSET {p})"
        )
        self.last_seq = f"SELECT last_seq, owner_epoch FROM games WHERE game_id = {p}"
        # --- ownership (docs/cluster.md). SQLite serves one process per file (`single_node`), so
        # there a claim always wins; PostgreSQL's (`PostgresStatements`) asks who is alive.
        self.claim_game = (
            f"UPDATE games SET owner = {p}, owner_epoch = owner_epoch + 1 WHERE game_id = {p} "
            "RETURNING owner_epoch"
        )
        self.release_game = (
            f"UPDATE games SET owner = {p} WHERE game_id = {p} AND owner = {p} "
            f"AND owner_epoch = COALESCE({p}, owner_epoch)"
        )
        lock = " FOR UPDATE" if postgres else ""
        self.owner_of_locked = f"SELECT owner FROM games WHERE game_id = {p}{lock}"
        # --- games
        self.insert_game = self.insert(GAMES, NewGame._fields)
        games = self.select(GAMES, GAME_FIELDS)
        self.game_row = f"{games} WHERE game_id = {p}"
        self.games = f"{games} ORDER BY created_at, game_id"
        self.games_with_status = f"{games} WHERE status = {p} ORDER BY created_at, game_id"
        self.snapshots = (
            f"{self.select(SNAPSHOTS, SNAPSHOT_FIELDS)} WHERE game_id = {p} ORDER BY version DESC"
        )
        self.events_after = (
            f"{self.select(EVENTS, EVENT_FIELDS)} WHERE game_id = {p} AND seq > {p} ORDER BY seq"
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
        self.usage = (
            "SELECT count(*), COALESCE(SUM(bytes), 0), (SELECT count(*) FROM snapshots) "
            f"FROM ({self.game_bytes}) AS b"
        )
        # The lobby: the newest open games, off `ix_games_open_at` (0 and NULL are not open).
        self.open_games = f"{games} WHERE open_at > 0 ORDER BY open_at DESC, game_id DESC LIMIT {p}"
        self.completed_before = (
            f"SELECT game_id FROM games WHERE status = 'completed' AND completed_at < {p} "
            "ORDER BY completed_at, game_id"
        )
        # --- reconnect tokens and seat claims
        tokens = self.select(RECONNECT_TOKENS, TOKEN_FIELDS)
        self.insert_token = self.insert(RECONNECT_TOKENS, TOKEN_FIELDS)
        self.token_row = f"{tokens} WHERE jti = {p}"
        self.current_token = (
            f"{tokens} WHERE game_id = {p} AND player_id = {p} AND consumed_at IS NULL "
            f"AND expires_at > {p} ORDER BY issued_at DESC, jti DESC LIMIT 1"
        )
        self.claim_seat = self.upsert(SEAT_CLAIMS, SeatClaimRow._fields)
        self.seat_claims = f"SELECT player_id, claim FROM seat_claims WHERE game_id = {p}"
        # The compare-and-set: only a row not consumed yet changes. The rows RETURNING hands back
        # are the UPDATE's row count (1: this call won) and the row as the winner stored it, with
        # no second read. Both databases have RETURNING (SQLite since 3.35).
        consumed = ", ".join(f"{name} = {p}" for name in TokenConsumed._fields[:-1])
        self.consume_token = (
            f"UPDATE reconnect_tokens SET {consumed} WHERE jti = {p} AND consumed_at IS NULL "
            f"RETURNING {self.columns(RECONNECT_TOKENS, TOKEN_FIELDS)}"
        )
        self.delete_expired_tokens = f"DELETE FROM reconnect_tokens WHERE expires_at < {p}"
        # --- signing keys
        self.signing_keys = "SELECT secret FROM signing_keys ORDER BY created_at DESC, key_id DESC"
        self.retire_keys = f"UPDATE signing_keys SET retired_at = {p} WHERE retired_at IS NULL"
        self.unretire_keys = "UPDATE signing_keys SET retired_at = NULL"
        self.keys_retired_at = "SELECT min(retired_at) FROM signing_keys"
        # Only into an empty table, and on the fixed id: of servers racing here, the first insert
        # wins and the others' conflict is a no-op, so all of them read back the same secret.
        self.store_first_key = (
            f"INSERT INTO signing_keys ({self.columns(SIGNING_KEYS, SigningKeyRow._fields)}) "
            f"SELECT {self.values(SIGNING_KEYS, SigningKeyRow._fields)} "
            "WHERE NOT EXISTS (SELECT 1 FROM signing_keys) ON CONFLICT (key_id) DO NOTHING"
        )

        # --- data keys (`store.datakeys`): a key that writes again is no longer retired
        self.data_keys = (
            "SELECT key_id, created_at, retired_at, written_at FROM data_keys "
            "ORDER BY created_at, key_id"
        )
        self.register_data_key = (
            "INSERT INTO data_keys (key_id, created_at, retired_at, written_at) "
            f"VALUES ({p}, {p}, NULL, {p}) "
            "ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL, written_at = excluded.written_at"
        )
        self.retire_data_key = (
            f"UPDATE data_keys SET retired_at = {p} WHERE key_id = {p} AND retired_at IS NULL"
        )

        # --- rekey (`store.rekey`): pages of rows after a key, and the rewrite of one row
        self.rekey_events = (
            f"SELECT e.game_id, e.seq, e.kind, {self.read(EVENTS, 'data', 'e.')}, g.kind "
            "FROM events e JOIN games g ON g.game_id = e.game_id "
            f"WHERE (e.game_id, e.seq) > ({p}, {p}) ORDER BY e.game_id, e.seq LIMIT {p}"
        )
        self.rekey_snapshots = (
            f"SELECT s.game_id, s.version, s.checksum, {self.read(SNAPSHOTS, 'state', 's.')}, "
            "g.kind FROM snapshots s JOIN games g ON g.game_id = s.game_id "
            f"WHERE (s.game_id, s.version) > ({p}, {p}) ORDER BY s.game_id, s.version LIMIT {p}"
        )
        self.reseal_event = (
            f"UPDATE events SET data = {self.value(EVENTS, 'data')} "
            f"WHERE game_id = {p} AND seq = {p}"
        )
        # Not there any more (pruned, deleted) or rewritten meanwhile: nothing is changed.
        self.reseal_snapshot = (
            f"UPDATE snapshots SET state = {self.value(SNAPSHOTS, 'state')}, checksum = {p} "
            f"WHERE game_id = {p} AND version = {p} AND checksum = {p}"
        )

    def delete_of_games(self, table: str, count: int) -> str:
        """Delete the rows of `table` that belong to `count` games, given as `game_ids_param`."""
        if self.postgres:
            return f"DELETE FROM {table} WHERE game_id = ANY(%s::text[])"
        return f"DELETE FROM {table} WHERE game_id IN ({', '.join(['?'] * count)})"

    def game_ids_param(self, game_ids: list[str]) -> Sequence[Any]:
        return [game_ids] if self.postgres else game_ids
