"""An in-memory `GameStore` for fast unit tests. It keeps nothing across processes: never use it
where durability is the point. It passes the same contract suite as the SQL stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from rejoin_server.errors import GameNotFound, SeqConflict
from rejoin_server.games.base import Event, GameStatus
from rejoin_server.store.base import (
    Deleted,
    GameRecord,
    RawEvent,
    SnapshotWrite,
    StoredLog,
    StoredSnapshot,
    Usage,
)
from rejoin_server.store.quota import CompletedGame, quota_victims
from rejoin_server.store.sql import DEFAULT_KEEP_SNAPSHOTS


@dataclass(slots=True)
class _Game:
    record: GameRecord
    events: dict[int, RawEvent] = field(default_factory=dict)
    snapshots: dict[int, StoredSnapshot] = field(default_factory=dict)
    events_bytes: int = 0

    def bytes(self) -> int:
        return self.events_bytes + sum(len(s.state.encode()) for s in self.snapshots.values())


class MemoryGameStore:
    def __init__(self, *, keep_snapshots: int = DEFAULT_KEEP_SNAPSHOTS) -> None:
        self._keep = keep_snapshots
        self._games: dict[str, _Game] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def create_game(
        self, game_id: str, kind: str, settings: Mapping[str, Any], now_ms: int
    ) -> GameRecord:
        if game_id in self._games:
            raise ValueError(f"game {game_id!r} already exists")
        record = GameRecord(game_id, kind, dict(settings), "waiting", now_ms, now_ms, None, 0)
        self._games[game_id] = _Game(record)
        return record

    async def append(
        self,
        game_id: str,
        events: Sequence[Event],
        *,
        status: GameStatus,
        now_ms: int,
        snapshot: SnapshotWrite | None = None,
    ) -> None:
        game = self._games.get(game_id)
        if game is None:
            raise GameNotFound(game_id)
        prev = events[0].seq - 1 if events else (snapshot.version if snapshot else None)
        if prev is None:
            return
        if game.record.last_seq != prev or any(e.seq in game.events for e in events):
            raise SeqConflict(game_id, prev + 1)
        for e in events:
            data = orjson.dumps(e.data).decode()
            game.events[e.seq] = RawEvent(e.seq, e.kind, e.at, data)
            game.events_bytes += len(data)
        completed_at = game.record.completed_at
        if status == "completed" and completed_at is None:
            completed_at = now_ms
        last = events[-1].seq if events else prev
        game.record = replace(
            game.record, status=status, updated_at=now_ms, completed_at=completed_at, last_seq=last
        )
        if snapshot is not None:
            game.snapshots[snapshot.version] = StoredSnapshot(
                snapshot.version, snapshot.state.decode(), snapshot.checksum, now_ms
            )
            for version in sorted(game.snapshots)[: -self._keep]:
                del game.snapshots[version]

    async def load(self, game_id: str) -> StoredLog:
        game = self._games.get(game_id)
        if game is None:
            raise GameNotFound(game_id)
        snapshots = [game.snapshots[v] for v in sorted(game.snapshots, reverse=True)]
        after = snapshots[0].version if snapshots else 0
        return StoredLog(game.record, snapshots, await self.read_events(game_id, after))

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        game = self._games.get(game_id)
        if game is None:
            return []
        found = [game.events[s] for s in sorted(game.events) if s > after_seq]
        return found if limit is None else found[:limit]

    async def get_game(self, game_id: str) -> GameRecord | None:
        game = self._games.get(game_id)
        return None if game is None else game.record

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]:
        records = [g.record for g in self._games.values()]
        records = [r for r in records if status is None or r.status == status]
        return sorted(records, key=lambda r: (r.created_at, r.game_id))

    async def delete_game(self, game_id: str) -> Deleted:
        game = self._games.pop(game_id, None)
        if game is None:
            return Deleted(events=0, snapshots=0, games=0)
        return Deleted(events=len(game.events), snapshots=len(game.snapshots), games=1)

    async def evict_completed(self, completed_before_ms: int) -> list[str]:
        victims = [
            gid
            for gid, g in self._games.items()
            if g.record.status == "completed"
            and g.record.completed_at is not None
            and g.record.completed_at < completed_before_ms
        ]
        for gid in victims:
            del self._games[gid]
        return victims

    async def usage(self) -> Usage:
        return Usage(len(self._games), sum(g.bytes() for g in self._games.values()))

    async def evict_for_quota(self, max_games: int | None, max_bytes: int | None) -> list[str]:
        usage = await self.usage()
        victims = quota_victims(
            usage.games,
            usage.bytes,
            [
                CompletedGame(g.record.game_id, g.record.completed_at or 0, g.bytes())
                for g in self._games.values()
                if g.record.status == "completed"
            ],
            max_games,
            max_bytes,
        )
        for gid in victims:
            del self._games[gid]
        return victims
