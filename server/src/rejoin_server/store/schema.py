"""The store's tables, declared once: every table name, column name, type and key lives here.

Two things are built from these declarations: the SQLAlchemy tables the migrations are checked
against (`store.tables`), and the SQL text the running store sends (`store.statements`). They are
plain data on purpose: the running server must not import SQLAlchemy (it costs hundreds of
milliseconds of every restart, see `store.sql`), yet its statements must not spell a column a
second time. A column changed here needs a migration in `migrations/`; the tests check that the
migrated schema is exactly this one.

Event data and settings are JSONB on PostgreSQL (queryable); snapshots are plain JSON text. Times
are integer milliseconds since the epoch, so both databases store and compare them the same way and
states never hold floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rejoin_server.store import widths

# string: VARCHAR(length); bigint; text; json: JSON text on both databases; jsonb: JSONB on
# PostgreSQL, JSON text on SQLite.
ColumnType = Literal["string", "bigint", "text", "json", "jsonb"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    length: int | None = None  # of a "string"
    nullable: bool = False
    primary_key: bool = False
    references: str | None = None  # "table.column" of a foreign key


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError when the table has none (a statement naming a
        column that does not exist fails when it is built, at import, not when it runs)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _string(
    name: str,
    length: int,
    *,
    nullable: bool = False,
    primary_key: bool = False,
    references: str | None = None,
) -> Column:
    return Column(name, "string", length, nullable, primary_key, references)


GAMES = Table(
    "games",
    (
        _string("game_id", widths.GAME_ID, primary_key=True),
        _string("kind", 32),
        Column("settings", "jsonb"),
        _string("status", 16),
        Column("created_at", "bigint"),
        Column("updated_at", "bigint"),
        Column("completed_at", "bigint", nullable=True),
        Column("last_seq", "bigint"),
        # Bytes of event data appended so far: the quota check reads this instead of scanning
        # events.
        Column("events_bytes", "bigint"),
        # The game's history epochs, JSON `[[epoch, first_seq], …]` oldest first: which
        # incarnation of the game (one per load) wrote which seqs, so a client that saw events a
        # crash erased is told to resync instead of resuming on top of a history that is gone.
        Column("history", "text", nullable=True),
        # The node hosting the game (docs/cluster.md): None while no node does. Its epoch goes up
        # by one each time a node takes the game, and every append checks it with the seq: a node
        # that lost the game can never write to it again (fencing).
        _string("owner", widths.NODE_ID, nullable=True),
        Column("owner_epoch", "bigint"),
        # "strict" or "relaxed", chosen when the game was created (docs/games.md, "Rolling
        # out"); NULL for games stored before that, which follow the server's --durability. A
        # game kept in memory only has no row.
        _string("durability", 8, nullable=True),
        # Who may still sit down, for the lobby (docs/http-api.md, `GET /api/games/open`): JSON
        # `{"seats": N, "taken": [seat, …]}`, and once the game is completed `"final"`, its
        # spectator view (the result). Public by construction: built from `view(None)`. NULL
        # for games stored before it, until their next append.
        Column("seating", "text", nullable=True),
        # `created_at` while the game is open (not completed, a seat free), 0 while it is not,
        # NULL while unknown: the lobby's one indexed query reads the newest open games off
        # `ix_games_open_at` and stops at its limit.
        Column("open_at", "bigint", nullable=True),
    ),
    (
        # Eviction looks for the oldest completed games.
        Index("ix_games_status_completed_at", ("status", "completed_at")),
        # A node lists the games it owns.
        Index("ix_games_owner", ("owner",)),
        # The cluster's sweep looks for games in play, active lately, that need a host.
        Index("ix_games_status_updated_at", ("status", "updated_at")),
        # The lobby lists the newest open games.
        Index("ix_games_open_at", ("open_at", "game_id")),
    ),
)

EVENTS = Table(
    "events",
    (
        _string("game_id", widths.GAME_ID, primary_key=True, references="games.game_id"),
        Column("seq", "bigint", primary_key=True),
        _string("kind", 32),
        Column("at", "bigint"),
        Column("data", "jsonb"),
        # The client `actionId` of the player action that caused an append, on the last event of
        # that append: after a restart the server rebuilds its duplicate filter from these, so an
        # action a client resends (its ack was lost in the crash) is answered, not applied twice.
        _string("action_id", widths.ACTION_ID, nullable=True),
    ),
)

SNAPSHOTS = Table(
    "snapshots",
    (
        _string("game_id", widths.GAME_ID, primary_key=True, references="games.game_id"),
        Column("version", "bigint", primary_key=True),
        # Plain JSON (text) even on PostgreSQL: a snapshot is read whole and never queried
        # inside, and JSONB would store it in about 1.6 times the bytes.
        Column("state", "json"),
        _string("checksum", 64),
        Column("created_at", "bigint"),
    ),
)

# One row per reconnect token (docs/architecture.md): the signed token carries only ids, so whether it was
# already used, and by whom, lives here. Kept apart from game state: consuming a token is a
# compare-and-set on `consumed_at`, never a write to the game.
RECONNECT_TOKENS = Table(
    "reconnect_tokens",
    (
        _string("jti", 32, primary_key=True),  # uuid4().hex
        # No foreign key: a token may outlive its game by a moment (a reconnect racing a delete),
        # and the expiry cleanup removes it anyway.
        _string("game_id", widths.GAME_ID),
        _string("player_id", widths.PLAYER_ID),
        Column("issued_at", "bigint"),
        Column("expires_at", "bigint"),
        Column("consumed_at", "bigint", nullable=True),
        # Who consumed it: the same client retrying gets the same answer again.
        _string("client_id", widths.CLIENT_ID, nullable=True),
        # The token issued in its place when it was consumed.
        _string("next_jti", 32, nullable=True),
    ),
    (
        # Deleting a game deletes its tokens.
        Index("ix_reconnect_tokens_game_id", ("game_id",)),
        # The cleanup deletes expired tokens.
        Index("ix_reconnect_tokens_expires_at", ("expires_at",)),
    ),
)

# Which claim on a seat is current: a session token names the claim it was issued with, and once
# a reconnect wins the seat anew (a new claim), older session tokens stop working.
SEAT_CLAIMS = Table(
    "seat_claims",
    (
        _string("game_id", widths.GAME_ID, primary_key=True),
        _string("player_id", widths.PLAYER_ID, primary_key=True),
        _string("claim", 32),
        Column("claimed_at", "bigint"),
    ),
)

# A secret the server generated to sign reconnect tokens when `REJOIN_SECRET_KEYS` is unset, kept
# so that tokens stay valid across restarts.
SIGNING_KEYS = Table(
    "signing_keys",
    (
        _string("key_id", 64, primary_key=True),
        _string("secret", 256),
        Column("created_at", "bigint"),
        # Since when the operator's own keys (REJOIN_SECRET_KEYS) sign instead; the key still
        # verifies for one token lifetime after it. None while it is the key that signs.
        Column("retired_at", "bigint", nullable=True),
    ),
)

# The data keys that wrote private game data (docs/operations.md, "Private data at rest"): their
# ids only, never the keys. A server refuses to start when one that is not retired is not among
# the keys it was given; `rejoin-server rekey` retires the ones nothing is sealed with any more.
DATA_KEYS = Table(
    "data_keys",
    (
        _string("key_id", 32, primary_key=True),
        Column("created_at", "bigint"),
        Column("retired_at", "bigint", nullable=True),
        # When a server last said it seals with this key (at start, then every few seconds).
        Column("written_at", "bigint", nullable=True),
    ),
)

# The nodes of a cluster (PostgreSQL only; docs/cluster.md): each node keeps its row fresh while it
# lives, and a game whose owner's row is stale, or whose owner's connection is gone, may be taken.
CLUSTER_NODES = Table(
    "cluster_nodes",
    (
        _string("node_id", widths.NODE_ID, primary_key=True),
        _string("url", 256),
        # The PostgreSQL backend of the node's coordination connection: while it is in
        # pg_stat_activity the node is alive; a node killed with SIGKILL loses it at once.
        Column("backend_pid", "bigint", nullable=True),
        Column("started_at", "bigint"),
        Column("heartbeat_at", "bigint"),  # the database's clock, not the node's
        Column("draining_since", "bigint", nullable=True),
        Column("left_at", "bigint", nullable=True),  # a node that shut down cleanly
    ),
)

TABLES = (
    GAMES,
    EVENTS,
    SNAPSHOTS,
    RECONNECT_TOKENS,
    SEAT_CLAIMS,
    SIGNING_KEYS,
    CLUSTER_NODES,
    DATA_KEYS,
)
