"""A `MemoryGameStore` whose writes can be scripted to fail, to half-fail, or to wait.

- `down = True`: every `append` that writes something (and `get_game`, when `reads_fail_too`)
  raises `StorageUnavailable` until it is set back to False;
- `fail_next(n)`: the next `n` appends raise `StorageUnavailable` and store nothing;
- `commit_then_fail_next(n)`: the next `n` appends are committed, then raise `StorageUnavailable`
  (the answer of a commit that went through was lost: an ambiguous commit);
- `fail_get_game_next(n)`: the next `n` `get_game` calls raise `StorageUnavailable`;
- `block(game_id)`: appends of that game wait until `release(game_id)`; `held(game_id)` counts
  the appends waiting there;
- `fail_list_games_next(n)`, `fail_delete_next(n)`, `fail_read_events_next(n)`: the next `n`
  calls of `list_games`, `delete_game`, `read_events` raise `StorageUnavailable`
  (`list_games_calls` counts every `list_games` call).

Every append attempt that writes something (events or a snapshot) is recorded in `attempts` as
`(game_id, seqs, outcome)`; `append_unscripted` stores past all of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

import orjson

from rejoin_server.errors import StorageUnavailable
from rejoin_server.games.base import Event, GameStatus
from rejoin_server.store.base import AppendWrite, Deleted, GameRecord, RawEvent, StoredLog
from rejoin_server.store.memory import MemoryGameStore

Outcome = Literal["stored", "unavailable", "committed-then-unavailable", "refused"]


class ScriptedStore(MemoryGameStore):
    def __init__(self) -> None:
        super().__init__(keep_snapshots=3)
        self.down = False
        self.reads_fail_too = False
        self._fail = 0
        self._commit_then_fail = 0
        self._fail_get_game = 0
        self._gates: dict[str, asyncio.Event] = {}
        self.attempts: list[tuple[str, tuple[int, ...], Outcome]] = []
        self.loads = 0
        self._held: dict[str, int] = {}
        self._fail_list_games = 0
        self._fail_delete = 0
        self._fail_read_events = 0
        self.list_games_calls = 0
        self._unscripted = False

    # --- scripting -------------------------------------------------------------------------------

    def fail_next(self, count: int) -> None:
        self._fail += count

    def commit_then_fail_next(self, count: int) -> None:
        self._commit_then_fail += count

    def fail_get_game_next(self, count: int) -> None:
        self._fail_get_game += count

    def block(self, game_id: str) -> None:
        self._gates[game_id] = asyncio.Event()

    def release(self, game_id: str) -> None:
        gate = self._gates.pop(game_id, None)
        if gate is not None:
            gate.set()

    def held(self, game_id: str) -> int:
        """How many appends of `game_id` are waiting at its `block` gate right now."""
        return self._held.get(game_id, 0)

    def fail_list_games_next(self, count: int) -> None:
        self._fail_list_games += count

    def fail_delete_next(self, count: int) -> None:
        self._fail_delete += count

    def fail_read_events_next(self, count: int) -> None:
        self._fail_read_events += count

    def stored(self, game_id: str) -> list[tuple[int, str, dict[str, object]]]:
        """The stored log of one game as (seq, kind, data), in seq order."""
        game = self._games.get(game_id)
        if game is None:
            return []
        return [
            (raw.seq, raw.kind, orjson.loads(raw.data))
            for raw in (game.events[seq] for seq in sorted(game.events))
        ]

    def stored_seqs(self, game_id: str) -> list[int]:
        return [seq for seq, _, _ in self.stored(game_id)]

    # --- the scripted GameStore ------------------------------------------------------------------

    async def append_unscripted(self, game_id: str, events: Sequence[Event], **kw: Any) -> None:
        """`append` past the script, unrecorded: another writer of the same database (another
        server that loaded the game) storing behind this store's back."""
        self._unscripted = True
        try:
            await self.append(game_id, events, **kw)
        finally:
            self._unscripted = False

    async def _write_append(self, write: AppendWrite) -> None:
        if self._unscripted:
            await super()._write_append(write)
            return
        game_id = write.game_id
        seqs = tuple(event.seq for event in write.events)
        gate = self._gates.get(game_id)
        if gate is not None:
            self._held[game_id] = self._held.get(game_id, 0) + 1
            try:
                await gate.wait()
            finally:
                self._held[game_id] -= 1
        if self.down or self._fail > 0:
            if not self.down:
                self._fail -= 1
            self.attempts.append((game_id, seqs, "unavailable"))
            raise StorageUnavailable("scripted outage")
        try:
            await super()._write_append(write)
        except Exception:
            self.attempts.append((game_id, seqs, "refused"))
            raise
        if self._commit_then_fail > 0:
            self._commit_then_fail -= 1
            self.attempts.append((game_id, seqs, "committed-then-unavailable"))
            raise StorageUnavailable("scripted lost answer")
        self.attempts.append((game_id, seqs, "stored"))

    async def read_events(
        self, game_id: str, after_seq: int, limit: int | None = None
    ) -> list[RawEvent]:
        if self._fail_read_events > 0:
            self._fail_read_events -= 1
            raise StorageUnavailable("scripted outage (read_events)")
        return await super().read_events(game_id, after_seq, limit)

    async def get_game(self, game_id: str) -> GameRecord | None:
        if self._fail_get_game > 0:
            self._fail_get_game -= 1
            raise StorageUnavailable("scripted outage (get_game)")
        if self.down and self.reads_fail_too:
            raise StorageUnavailable("scripted outage (get_game)")
        return await super().get_game(game_id)

    async def load(self, game_id: str) -> StoredLog:
        self.loads += 1
        await asyncio.sleep(0)  # a real store yields here: concurrent loads would overlap
        return await super().load(game_id)

    async def list_games(self, status: GameStatus | None = None) -> list[GameRecord]:
        self.list_games_calls += 1
        if self._fail_list_games > 0:
            self._fail_list_games -= 1
            raise StorageUnavailable("scripted outage (list_games)")
        return await super().list_games(status)

    async def delete_game(self, game_id: str) -> Deleted:
        if self._fail_delete > 0:
            self._fail_delete -= 1
            raise StorageUnavailable("scripted outage (delete_game)")
        return await super().delete_game(game_id)
