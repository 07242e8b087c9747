"""The store's tables, defined once with SQLModel; `migrations/` creates them with Alembic.

Event data and settings are JSONB on PostgreSQL (queryable); snapshots are plain JSON text. Times
are integer milliseconds since the epoch, so both databases store and compare them the same way and
states never hold floats.

Only the migrations and the tests import this module: the running server's SQL (`store.sql`) is
plain text on the drivers, because importing SQLModel and SQLAlchemy would add hundreds of
milliseconds to every restart. A column changed here needs a migration and the statements of
`store.sql._Dialect` changed with it; the store's tests run those against migrated databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from rejoin_server.store import widths

# JSONB where the database has it; the text of canonical JSON everywhere else.
JsonColumnType: Any = JSON().with_variant(JSONB(), "postgresql")


class Game(SQLModel, table=True):
    __tablename__ = "games"
    # Eviction looks for the oldest completed games.
    __table_args__ = (Index("ix_games_status_completed_at", "status", "completed_at"),)

    game_id: str = Field(primary_key=True, max_length=widths.GAME_ID)
    kind: str = Field(max_length=32)
    settings: dict[str, Any] = Field(sa_column=Column(JsonColumnType, nullable=False))
    status: str = Field(max_length=16)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    completed_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Bytes of event data appended so far: the quota check reads this instead of scanning events.
    events_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # The game's history epochs, JSON `[[epoch, first_seq], …]` oldest first: which incarnation of
    # the game (one per load) wrote which seqs, so a client that saw events a crash erased is
    # told to resync instead of resuming on top of a history that is gone.
    history: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class GameEvent(SQLModel, table=True):
    __tablename__ = "events"

    game_id: str = Field(primary_key=True, max_length=widths.GAME_ID, foreign_key="games.game_id")
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=32)
    at: int = Field(sa_column=Column(BigInteger, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JsonColumnType, nullable=False))
    # The client `actionId` of the player action that caused an append, on the last event of that
    # append: after a restart the server rebuilds its duplicate filter from these, so an action a
    # client resends (its ack was lost in the crash) is answered, not applied twice.
    action_id: str | None = Field(default=None, max_length=widths.ACTION_ID)


class Snapshot(SQLModel, table=True):
    __tablename__ = "snapshots"

    game_id: str = Field(primary_key=True, max_length=widths.GAME_ID, foreign_key="games.game_id")
    version: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # Plain JSON (text) even on PostgreSQL: a snapshot is read whole and never queried inside,
    # and JSONB would store it in about 1.6 times the bytes.
    state: dict[str, Any] = Field(sa_column=Column(JSON(), nullable=False))
    checksum: str = Field(max_length=64)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class ReconnectToken(SQLModel, table=True):
    """One row per reconnect token (DESIGN §3): the signed token carries only ids, so whether it
    was already used, and by whom, lives here. Kept apart from game state: consuming a token is a
    compare-and-set on `consumed_at`, never a write to the game."""

    __tablename__ = "reconnect_tokens"
    __table_args__ = (
        # Deleting a game deletes its tokens.
        Index("ix_reconnect_tokens_game_id", "game_id"),
        # The cleanup deletes expired tokens.
        Index("ix_reconnect_tokens_expires_at", "expires_at"),
    )

    jti: str = Field(primary_key=True, max_length=32)  # uuid4().hex
    # No foreign key: a token may outlive its game by a moment (a reconnect racing a delete), and
    # the expiry cleanup removes it anyway.
    game_id: str = Field(max_length=widths.GAME_ID)
    player_id: str = Field(max_length=widths.PLAYER_ID)
    issued_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    consumed_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Who consumed it: the same client retrying gets the same answer again.
    client_id: str | None = Field(default=None, max_length=widths.CLIENT_ID)
    # The token issued in its place when it was consumed.
    next_jti: str | None = Field(default=None, max_length=32)


class SeatClaim(SQLModel, table=True):
    """Which claim on a seat is current: a session token names the claim it was issued with, and
    once a reconnect wins the seat anew (a new claim), older session tokens stop working."""

    __tablename__ = "seat_claims"

    game_id: str = Field(primary_key=True, max_length=widths.GAME_ID)
    player_id: str = Field(primary_key=True, max_length=widths.PLAYER_ID)
    claim: str = Field(max_length=32)
    claimed_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class SigningKey(SQLModel, table=True):
    """A secret the server generated to sign reconnect tokens when `REJOIN_SECRET_KEYS` is unset,
    kept so that tokens stay valid across restarts."""

    __tablename__ = "signing_keys"

    key_id: str = Field(primary_key=True, max_length=64)
    secret: str = Field(max_length=256)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Since when the operator's own keys (REJOIN_SECRET_KEYS) sign instead; the key still
    # verifies for one token lifetime after it. None while it is the key that signs.
    retired_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
