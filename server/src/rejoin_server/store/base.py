"""The `GameStore` interface and the records it hands back.

A store keeps, per game: a row (kind, settings, status, times, last seq), the event log keyed
`(game_id, seq)` and the last K snapshots. It never interprets events or states: restoring a game
from them is `store.restore`'s job. Every method is a coroutine; implementations do their I/O off
the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rejoin_server.games.base import Event, GameStatus


@dataclass(frozen=True, slots=True)
class GameRecord:
    game_id: str
    kind: str
    settings: Mapping[str, Any]
    status: GameStatus
    created_at: int
    updated_at: int
    completed_at: int | None
    last_seq: int


@dataclass(frozen=True, slots=True)
class SnapshotWrite:
    """A snapshot ready to store: `state` is canonical JSON, `checksum` its SHA-256."""

    version: int
    state: bytes
    checksum: str


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot as read back: `state` is the stored JSON text, unverified."""

    version: int
    state: str
    checksum: str
    created_at: int


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event row as read back: `data` is the stored JSON text, not yet decoded."""

    seq: int
    kind: str
    at: int
    data: str


@dataclass(frozen=True, slots=True)
class StoredLog:
    """What a restore starts from: the game row, its snapshots newest first, and the events after
    the newest snapshot (all events when there is none)."""

    game: GameRecord
    snapshots: Sequence[StoredSnapshot]
    events: Sequence[RawEvent]


@dataclass(frozen=True, slots=True)
class Deleted:
    events: int
    snapshots: int
    games: int


@dataclass(frozen=True, slots=True)
class Usage:
    games: int
    bytes: int


class GameStore(Protocol):
    """Durable home of games. Implementations: SQLite, PostgreSQL, and memory (unit tests only)."""

    async def open(self) -> None:
        """Connect. Tables must exist already (`store.migrate.upgrade`)."""
        ...

    async def close(self) -> None:
        """Finish pending writes and disconnect."""
        ...

    async def create_game(
        self, game_id: str, kind: str, settings: Mapping[str, Any], now_ms: int
    ) -> GameRecord: ...

    async def append(
        self,
        game_id: str,
        events: Sequence[Event],
        *,
        status: GameStatus,
        now_ms: int,
        snapshot: SnapshotWrite | None = None,
    ) -> None:
        """Write `events` (and the game's new status, and optionally a snapshot taken after them)
        in one transaction, group-committed with other games' appends that are ready at the same
        time. A seq that is already stored raises `SeqConflict` and writes nothing of this call.
        Raises `StorageUnavailable` when the database cannot be reached."""
        ...

    async def load(self, game_id: str) -> StoredLog:
        """Raises `GameNotFound`."""
        ...

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        """Events with seq > `after_seq`, in order."""
        ...

    async def get_game(self, game_id: str) -> GameRecord | None: ...

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]: ...

    async def delete_game(self, game_id: str) -> Deleted:
        """Remove every row of one game. A game that does not exist deletes nothing."""
        ...

    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        """Delete the games completed before `completed_before_ms`; return their ids."""
        ...

    async def usage(self) -> Usage:
        """How many games are stored and roughly how many bytes of events and snapshots."""
        ...

    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        """While usage is over a limit, delete the oldest completed game; return the ids deleted.
        Games still in play are never evicted (the caller refuses new games with `StorageFull`)."""
        ...
