"""What an operator (or the cleanup job) does to a game from outside play: snapshot it now, delete
it, complete it once nobody plays it any more.

A game kept in memory only cannot be snapshotted (`invalid_request`: it is never stored); deleting
it drops it from memory with its token rows, which are in memory too (`memory_tokens`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from rejoin_protocol.errors import ErrorCode
from rejoin_server.durability import is_memory_id
from rejoin_server.errors import ApiError, GameNotFound, StateCorrupted
from rejoin_server.games.base import Abandon, Command
from rejoin_server.host.loaded_games import LoadedGames, still_storing
from rejoin_server.host.writer import GameWriter
from rejoin_server.store.base import Deleted, GameStore
from rejoin_server.store.restore import take_snapshot

log = logging.getLogger(__name__)

# How long `persist` waits for a game's queued writes before it answers storage_unavailable.
PERSIST_FLUSH_S = 5.0


class Operations:
    def __init__(
        self,
        store: GameStore,
        writer: GameWriter,
        games: LoadedGames,
        memory_tokens: GameStore,
        *,
        clock: Callable[[], int],
        execute: Callable[[str, Command], Awaitable[object]],
        forget: Callable[[str], None],
    ) -> None:
        self._store = store
        self._writer = writer
        self._games = games
        self._memory_tokens = memory_tokens  # the token rows of the games kept in memory only
        self._clock = clock
        self._execute = execute  # the host's command path, loading the game if need be
        self._forget = forget  # drop a game from memory

    async def persist(self, game_id: str, force: bool) -> int:
        """Snapshot the game's state at its seq; return that version. Raises `StorageUnavailable`
        while its earlier events are not stored yet."""
        live = await self._games.get(game_id)
        if live.in_memory_only:
            raise ApiError(
                ErrorCode.INVALID_REQUEST,
                f'Game {game_id!r} is kept in memory only (durability "memory", chosen when it '
                "was created): it is never stored, so it cannot be persisted. A game that must "
                "survive a restart is created with durability strict or relaxed.",
            )
        async with live.lock:
            self._games.require_current(live)
            state = live.state
            # Relaxed durability (or a short outage) leaves writes queued: give them a moment.
            await self._writer.flush_game(game_id, PERSIST_FLUSH_S)
            unstored = live.marks.unstored(state.seq)
            if self._writer.has_pending(game_id) or unstored > 0:
                raise still_storing(f"{unstored} of its events are not stored yet")
            if not force and live.marks.stored_snapshot_seq == state.seq and state.seq > 0:
                return state.seq
            snapshot = take_snapshot(state)
            await self._store.append(
                game_id,
                [],
                status=state.status,
                now_ms=self._clock(),
                snapshot=snapshot,
                owner_epoch=live.owner_epoch,
            )
            live.marks.snapshot_stored(state.seq, self._clock())
            return state.seq

    async def delete(self, game_id: str) -> Deleted:
        """Delete in the store first: if the store is down, the game stays as it was."""
        if is_memory_id(game_id):
            return await self._delete_from_memory(game_id)
        record = await self._store.get_game(game_id)
        if record is None:
            raise GameNotFound(game_id)
        live = self._games.loaded(game_id)
        if live is None:
            return await self._store.delete_game(game_id)
        async with live.lock:
            deleted = await self._store.delete_game(game_id)
            self._forget(game_id)
            return deleted

    async def _delete_from_memory(self, game_id: str) -> Deleted:
        """A game kept in memory only: nothing of it is stored; its events go with it."""
        live = await self._games.get(game_id)  # raises MemoryGameGone when it is not here
        async with live.lock:
            self._games.require_current(live)
            self._forget(game_id)
            tokens = await self._memory_tokens.delete_game(game_id)
        return Deleted(events=live.state.seq, snapshots=0, games=1, tokens=tokens.tokens)

    async def abandon(self, game_id: str) -> None:
        """Complete a game nobody plays any more (the cleanup job)."""
        try:
            await self._execute(game_id, Abandon())
        except ApiError as exc:
            if exc.code != ErrorCode.GAME_COMPLETED:
                raise
        except StateCorrupted as exc:
            log.error("cleanup: game %s cannot be loaded to abandon it: %s", game_id, exc)
