"""Reading a game without changing it: its state held still, and the events a reader missed.

A game kept in memory only has no events but the newest ones in memory (`LiveGame.recent`): a
reader who missed older ones resyncs (a resume) or is told to load the state again (a page).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, StateCorrupted
from rejoin_server.games.base import Event, GameState
from rejoin_server.host.live import RECENT_EVENTS, LiveGame
from rejoin_server.host.loaded_games import LoadedGames, still_storing
from rejoin_server.store.base import GameStore
from rejoin_server.store.restore import decode_event

log = logging.getLogger(__name__)


def require_in_memory(live: LiveGame, after_seq: int) -> None:
    """A game kept in memory only has no events but the newest ones (`LiveGame.recent`): raise
    `stale_state` when the events after `after_seq` are no longer all there. (A stored game reads
    older ones from the store.)"""
    if live.in_memory_only and live.recent_after(after_seq) is None:
        raise ApiError(
            ErrorCode.STALE_STATE,
            f"This game is kept in memory only, which holds its last {RECENT_EVENTS} events, "
            f"not every one after {after_seq}; load its state again (GET …/state) and read on "
            "from its seq.",
        )


class Reading:
    def __init__(self, store: GameStore, games: LoadedGames, *, replay_limit: int) -> None:
        self._store = store
        self._games = games
        self._replay_limit = replay_limit

    @asynccontextmanager
    async def reading(self, live: LiveGame) -> AsyncIterator[GameState]:
        """Hold the game still while reading it. A command applies its events in memory *before*
        its commit; under the lock no commit is in flight, so what is read here is exactly what
        has been published (write-ahead: nobody sees an event that might not be stored)."""
        async with live.lock:
            self._games.require_current(live)
            yield live.state

    async def events_after(
        self, live: LiveGame, after_seq: int, limit: int | None = None
    ) -> list[Event]:
        """Events with seq > `after_seq` as stored or in memory (raw, not yet redacted), in order,
        at most `limit` of them."""
        require_in_memory(live, after_seq)
        recent = live.recent_after(after_seq)
        if recent is None:
            raws = await self._store.read_events(live.game_id, after_seq, limit)
            try:
                stored = [decode_event(live.game_id, raw) for raw in raws]
            except StateCorrupted as exc:  # the game itself is served: say so
                raise StateCorrupted(live.game_id, exc.seq, exc.problem, served=True) from None
            if limit is not None and len(stored) >= limit:
                return stored[:limit]  # a full page: what memory holds after it is not needed
            # Queued (not yet stored) events are in memory (`LiveGame.publish` keeps every event
            # that is not durable yet): join the two without gap or overlap.
            last = stored[-1].seq if stored else after_seq
            tail = live.recent_after(last)
            if tail is None:
                raise still_storing(f"Events after {last} are not stored yet")
            recent = stored + tail
        return recent if limit is None else recent[:limit]

    async def missed_events(
        self, live: LiveGame, player_id: str, last_seq: int | None, last_epoch: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """What a player resuming from `last_seq` missed, in their visibility, or `([], True)`
        (resync: the fresh state is the catch-up) when there is no `last_seq`, it is past the
        end, its history up to there is not ours (`last_epoch`: lost in a crash, see
        `host.history`), or more than the replay limit is missing. Call it under `reading`."""
        state = live.state
        limit = self._replay_limit
        if last_seq is None or last_seq > state.seq or state.seq - last_seq > limit:
            return [], True
        if not live.history.holds(last_epoch, last_seq):
            log.info(
                "game %s: player %s resumes from seq %d of a history this server does not "
                "have (epoch %s): resync",
                live.game_id,
                player_id,
                last_seq,
                last_epoch,
            )
            return [], True
        if live.in_memory_only and live.recent_after(last_seq) is None:
            return [], True  # older than what memory holds: the fresh state is the catch-up
        events = await self.events_after(live, last_seq)
        return [state.event_for(event, player_id).to_json() for event in events], False
