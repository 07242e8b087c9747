"""The statements only PostgreSQL runs: a whole batch of appends (with their snapshots), and a
token's consume with its replacement and claim, each in one round trip. SQLite runs in-process,
where a statement per row costs microseconds; PostgreSQL pays a network round trip per statement,
and a restart's storm of a thousand resumes (or a batch of hundreds of appends) would pay it a
thousand times.

Arrays go in through `unnest`, one array per column (see `store.appends.columns`), typed from the
schema: a number column as `bigint[]`, anything else as `text[]` (JSON cast back on the way in).
"""

from __future__ import annotations

from collections.abc import Sequence

from rejoin_server.store.rows import EventRow, GameAdvance, SeatClaimRow, SnapshotRow
from rejoin_server.store.schema import (
    EVENTS,
    GAMES,
    RECONNECT_TOKENS,
    SEAT_CLAIMS,
    SNAPSHOTS,
    Table,
)
from rejoin_server.store.statements import TOKEN_FIELDS, Statements

# The fields of a row tuple that are not columns, and the column whose type they share.
_LIKE = {"prev_seq": "last_seq"}

# The SQLSTATE of `append_batch` when a fence failed: division_by_zero, which nothing else in it
# can raise.
FENCE_FAILED = "22012"

# Milliseconds since the epoch by the database's clock: every node judges a heartbeat by this one
# clock, so nodes whose clocks disagree still agree on who is alive.
DB_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

# A node is alive while it has not left, its heartbeat is younger than the lease, and its
# coordination connection's backend still exists (PostgreSQL ends it the moment the process dies).
ALIVE = (
    f"n.left_at IS NULL AND n.heartbeat_at > {DB_NOW_MS} - %(lease_ms)s AND (n.backend_pid IS NULL OR "
    "EXISTS (SELECT 1 FROM pg_stat_activity AS a WHERE a.pid = n.backend_pid))"
)


def _arrays(table: Table, names: Sequence[str]) -> str:
    """One `unnest` argument per name: the array of that column's values."""
    kinds = (table.column(_LIKE.get(name, name)).type for name in names)
    return ", ".join("%s::bigint[]" if kind == "bigint" else "%s::text[]" for kind in kinds)


def _typed(table: Table, names: Sequence[str]) -> str:
    """Placeholders with their column's type: a NULL selected into an INSERT needs one."""
    kinds = (table.column(name).type for name in names)
    return ", ".join({"bigint": "%s::bigint", "string": "%s::text"}.get(k, "%s") for k in kinds)


class PostgresStatements(Statements):
    def __init__(self) -> None:
        super().__init__(postgres=True)
        advance = ", ".join(GameAdvance._fields)
        event_columns = self.columns(EVENTS, EventRow._fields)
        snapshot_columns = self.columns(SNAPSHOTS, SnapshotRow._fields)
        # The batch append, whole, in one statement: advance every game whose last_seq (and
        # ownership epoch) still matches, the fence; insert the events of exactly the games that
        # advanced. Run alone (autocommit), a statement is its own transaction: one round trip,
        # no BEGIN or COMMIT, and it is all or nothing. So that a failed fence writes nothing,
        # the last SELECT divides by zero unless every game advanced (`FENCE_FAILED`): the error
        # undoes the whole statement, where a returned count would come after the commit. The
        # count is not a constant, so the planner cannot fold the division early. Parameters:
        # the advance's columns, the events', then how many games must advance.
        advance_and_insert = (
            f"WITH v AS (SELECT * FROM unnest({_arrays(GAMES, GameAdvance._fields)}) "
            f"AS v({advance})), "
            f"adv AS (UPDATE games AS g SET {self.advance_set('g.{}', 'v.{}')} "
            "FROM v WHERE g.game_id = v.game_id AND g.last_seq = v.prev_seq "
            "AND g.owner_epoch = COALESCE(v.owner_epoch, g.owner_epoch) "
            "RETURNING g.game_id), "
            f"ins AS (INSERT INTO events ({event_columns}) "
            f"SELECT {', '.join(self._cast_in(EVENTS, name, 'e.') for name in EventRow._fields)} "
            f"FROM unnest({_arrays(EVENTS, EventRow._fields)}) AS e({event_columns}) "
            "WHERE e.game_id IN (SELECT game_id FROM adv)), "
        )
        fence = "SELECT 1 / (count(*) = %s)::int FROM adv"
        self.append_batch = f"{advance_and_insert.removesuffix(', ')} {fence}"
        # The same with the batch's snapshots, for a batch that has some (these parts cost a batch
        # without any about a fifth more time in the database, measured: 0.28 ms against 0.24):
        # store them for the games that advanced, and prune each of those games' snapshots to the
        # newest K.
        # Data-modifying CTEs all see the rows as they were before the statement: the prune
        # counts the snapshots newer than each one (the new one aside, then added: 1 when it is
        # newer) and never touches the new one's version, so the upsert and the delete never
        # meet on a row. Parameters: as `append_batch`'s, with the snapshots' columns and K
        # before the count.
        self.append_batch_with_snapshots = (
            f"{advance_and_insert}"
            f"s AS (SELECT * FROM unnest({_arrays(SNAPSHOTS, SnapshotRow._fields)}) "
            f"AS s({snapshot_columns}) WHERE s.game_id IN (SELECT game_id FROM adv)), "
            f"snap AS (INSERT INTO snapshots ({snapshot_columns}) SELECT "
            f"{', '.join(self._cast_in(SNAPSHOTS, name, 's.') for name in SnapshotRow._fields)} "
            f"FROM s {self.overwrite(SNAPSHOTS, SnapshotRow._fields)}), "
            "pruned AS (DELETE FROM snapshots AS d USING s WHERE d.game_id = s.game_id "
            "AND d.version <> s.version AND (SELECT count(*) FROM snapshots AS o "
            "WHERE o.game_id = d.game_id AND o.version > d.version AND o.version <> s.version) "
            f"+ (s.version > d.version)::int >= %s) {fence}"
        )
        # The consume, the replacement and the claim in one statement. Each data-modifying part
        # runs once; those selecting FROM `used` write nothing when the compare-and-set changed
        # no row (a loser). Parameters: the consume's, the replacement's (`TOKEN_FIELDS`), the
        # claim's (`SeatClaimRow`), then the claim again (None: no claim is written).
        claim = SeatClaimRow._fields
        tokens = self.columns(RECONNECT_TOKENS, TOKEN_FIELDS)
        self.consume_token_at_once = (
            f"WITH used AS ({self.consume_token}), "
            f"fresh AS (INSERT INTO reconnect_tokens ({tokens}) "
            f"SELECT {_typed(RECONNECT_TOKENS, TOKEN_FIELDS)} FROM used), "
            f"claimed AS (INSERT INTO seat_claims ({self.columns(SEAT_CLAIMS, claim)}) "
            f"SELECT {_typed(SEAT_CLAIMS, claim)} FROM used WHERE %s::text IS NOT NULL "
            f"{self.overwrite(SEAT_CLAIMS, claim)}) "
            f"SELECT {tokens} FROM used"
        )

        # A claim wins when the game has no owner, the claimant owns it already (restarted with
        # the same id), or its owner is not alive (`ALIVE`). Named parameters.
        self.claim_game_if_free = (
            "UPDATE games AS g SET owner = %(node)s, owner_epoch = g.owner_epoch + 1 "
            "WHERE g.game_id = %(game_id)s AND (g.owner IS NULL OR g.owner = %(node)s OR NOT "
            f"EXISTS (SELECT 1 FROM cluster_nodes AS n WHERE n.node_id = g.owner AND {ALIVE})) "
            "RETURNING g.owner_epoch"
        )

    def _cast_in(self, table: Table, name: str, alias: str) -> str:
        """A text value from an array, as column `name` stores it."""
        kind = table.column(name).type
        return f"{alias}{name}::{kind}" if kind in ("json", "jsonb") else f"{alias}{name}"
