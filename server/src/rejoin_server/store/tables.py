"""The store's tables, defined once with SQLModel; `migrations/` creates them with Alembic.

Event data and settings are JSONB on PostgreSQL (queryable); snapshots are plain JSON text. Times
are integer milliseconds since the epoch, so both databases store and compare them the same way and
states never hold floats.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSONB where the database has it; the text of canonical JSON everywhere else.
JsonColumnType: Any = JSON().with_variant(JSONB(), "postgresql")


class Game(SQLModel, table=True):
    __tablename__ = "games"
    # Eviction looks for the oldest completed games.
    __table_args__ = (Index("ix_games_status_completed_at", "status", "completed_at"),)

    game_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    settings: dict[str, Any] = Field(sa_column=Column(JsonColumnType, nullable=False))
    status: str = Field(max_length=16)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    completed_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Bytes of event data appended so far: the quota check reads this instead of scanning events.
    events_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class GameEvent(SQLModel, table=True):
    __tablename__ = "events"

    game_id: str = Field(primary_key=True, max_length=64, foreign_key="games.game_id")
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=32)
    at: int = Field(sa_column=Column(BigInteger, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JsonColumnType, nullable=False))


class Snapshot(SQLModel, table=True):
    __tablename__ = "snapshots"

    game_id: str = Field(primary_key=True, max_length=64, foreign_key="games.game_id")
    version: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # Plain JSON (text) even on PostgreSQL: a snapshot is read whole and never queried inside,
    # and JSONB would store it in about 1.6 times the bytes.
    state: dict[str, Any] = Field(sa_column=Column(JSON(), nullable=False))
    checksum: str = Field(max_length=64)
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
