"""An operator's rollback of a loaded game (`POST /api/game/{gameId}/rollback`).

It runs under the game's lock, the one that serializes every command (`host.command_path`), so it
is ordered with the players' actions: an action that waited for the lock and names the seq it saw
(`atSeq`) finds the game moved on and gets `stale_state`. Write-ahead like a command, and stricter:
the game's earlier writes are flushed first, the rollback's event and its snapshot are stored in
one append, and only then does the game in memory become the restored state, its event published
to every reader and its clock armed again. It is never queued: while the store is down (degraded)
or behind, it is refused with `storage_unavailable`, and the game goes on as it was.

A player who joined after the version rolled back to has no seat in the restored state: their
readers (WebSocket, SSE) are closed with 4403 `player_not_in_game`, and their session and
reconnect tokens are answered `player_not_in_game` from then on (they may join again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, StorageUnavailable
from rejoin_server.games.kinds import GameKinds
from rejoin_server.host.live import LiveGame
from rejoin_server.host.loaded_games import LoadedGames, still_storing
from rejoin_server.host.ownership import not_serving
from rejoin_server.host.seating import seating_of
from rejoin_server.host.writer import GameWriter
from rejoin_server.metrics import Metrics
from rejoin_server.store.base import GameStore, Seating, StoredSnapshot
from rejoin_server.store.rollback import RolledBack, build_rollback, engine_of

log = logging.getLogger(__name__)

# How long a rollback waits for the game's queued writes before it answers storage_unavailable.
FLUSH_S = 5.0


def prepare(
    kinds: GameKinds,
    kind: str,
    game_id: str,
    settings: Mapping[str, Any],
    snapshots: Sequence[StoredSnapshot],
    *,
    version: int,
    seq: int,
    now_ms: int,
    reason: str,
    listed_by: str = "",
) -> tuple[RolledBack, Seating | None]:
    """The game rolled back (`store.rollback.build_rollback`) and the lobby's seating of it (a
    seat taken after the version is free again; a reopened game is listed as it is), for the
    server's rollback and the offline command alike."""
    rolled = build_rollback(
        engine_of(kinds, kind, game_id),
        game_id,
        settings,
        snapshots,
        version=version,
        seq=seq,
        now_ms=now_ms,
        reason=reason,
        listed_by=listed_by,
    )
    joins = kinds.joins_while_playing(kind)
    return rolled, seating_of(rolled.state, settings, joins_while_playing=joins)


@dataclass(frozen=True, slots=True)
class Rollback:
    """What `POST …/rollback` asked for."""

    version: int
    reason: str
    reopen: bool = False


class Rollbacks:
    def __init__(
        self,
        store: GameStore,
        writer: GameWriter,
        games: LoadedGames,
        metrics: Metrics,
        *,
        clock: Callable[[], int],
        arm: Callable[[LiveGame], None],
        unseated: Callable[[LiveGame], None],
        may_write: Callable[[], bool],
        forget: Callable[[str], None],
    ) -> None:
        self._store = store
        self._writer = writer
        self._games = games
        self._metrics = metrics
        self._clock = clock
        self._arm = arm  # start the game's clock at its next deadline
        self._unseated = unseated  # close the readers of players the state no longer seats
        self._may_write = may_write  # whether this node may write its games now (cluster)
        self._forget = forget  # drop a game from memory

    async def roll_back(self, live: LiveGame, asked: Rollback) -> int:
        """Roll `live` back to `asked.version`; return the seq of its `snapshot_restored` event."""
        game_id = live.game_id
        if live.in_memory_only:
            raise ApiError(
                ErrorCode.INVALID_REQUEST,
                f'Game {game_id!r} is kept in memory only (durability "memory"): it keeps no '
                "snapshots, so it has no version to roll back to.",
            )
        if self._writer.degraded:
            raise _store_down()
        async with live.lock:
            self._games.require_current(live)
            state = live.state
            if state.status == "completed" and not asked.reopen:
                raise _completed(game_id)
            await self._writer.flush_game(game_id, FLUSH_S)
            unstored = live.marks.unstored(state.seq)
            if self._writer.has_pending(game_id) or unstored > 0:
                if self._writer.degraded:
                    raise _store_down()
                raise still_storing(f"{unstored} of its events are not stored yet")
            stored = await self._store.load(game_id)
            now = self._clock()
            rolled, seating = prepare(
                self._games.kinds,
                live.kind,
                game_id,
                live.settings,
                stored.snapshots,
                version=asked.version,
                seq=state.seq + 1,
                now_ms=now,
                reason=asked.reason,
            )
            if not self._may_write():
                self._forget(game_id)
                raise not_serving(game_id)
            try:
                await self._store.append(
                    game_id,
                    [rolled.event],
                    status=rolled.state.status,
                    now_ms=now,
                    snapshot=rolled.snapshot,
                    history=live.history.to_store(),
                    owner_epoch=live.owner_epoch,
                    seating=seating,
                )
            except StorageUnavailable as exc:
                # The commit may have landed and only its answer been lost: memory cannot tell.
                # The game is let go, so the next touch loads it from the store as it is there
                # (rolled back or not); /healthz says degraded until a probe finds the store.
                self._writer.report_unavailable(exc)
                self._forget(game_id)
                raise
            except Exception:
                # Another writer advanced the game (SeqConflict), this node was fenced, the game
                # was deleted: memory is behind the store, or may be. Reload on the next touch.
                self._forget(game_id)
                raise
            seq = rolled.event.seq
            live.state = rolled.state
            live.lineage.rolled_back(seq, asked.version)  # its actions since are undone
            live.note_stored(seq, now)
            live.marks.snapshot_stored(seq, now)
            # As the store's row keeps it (its first completion, `store.statements`): a reopen to
            # a version that is itself completed leaves the game completed since then.
            completed = rolled.state.status == "completed"
            live.completed_at_ms = (stored.game.completed_at or now) if completed else None
            live.last_activity_ms = now  # a reopened game is not abandoned at once
            if seating is not None:
                live.seating, live.seating_open = seating.data, seating.open
            live.publish([rolled.event])
            self._unseated(live)
            self._arm(live)
        self._done(game_id, asked, seq)
        return seq

    async def roll_back_stored(self, game_id: str, asked: Rollback) -> int:
        """Roll back a game that cannot be loaded (`StateCorrupted`: an event its game cannot
        apply) on the store alone: the rollback's event at the row's `last_seq + 1`, fenced on it
        (and on the row's ownership epoch), with the snapshot of the kept version, verified. The
        newest snapshot is then the rollback's: the game loads from it, and the event that could
        not be applied is never replayed. Return the seq of the rollback's event."""
        if self._writer.degraded:
            raise _store_down()
        stored = await self._store.load(game_id)
        record = stored.game
        engine_of(self._games.kinds, record.kind, game_id)  # a kind not served: said first
        if record.status == "completed" and not asked.reopen:
            raise _completed(game_id)
        now = self._clock()
        rolled, seating = prepare(
            self._games.kinds,
            record.kind,
            game_id,
            record.settings,
            stored.snapshots,
            version=asked.version,
            seq=record.last_seq + 1,
            now_ms=now,
            reason=asked.reason,
        )
        if not self._may_write():
            raise not_serving(game_id)
        try:
            await self._store.append(
                game_id,
                [rolled.event],
                status=rolled.state.status,
                now_ms=now,
                snapshot=rolled.snapshot,
                owner_epoch=record.owner_epoch,
                seating=seating,
            )
        except StorageUnavailable as exc:
            self._writer.report_unavailable(exc)
            raise
        self._done(game_id, asked, rolled.event.seq)
        return rolled.event.seq

    def _done(self, game_id: str, asked: Rollback, seq: int) -> None:
        self._metrics.rollbacks.inc()
        log.warning(
            "game %s rolled back to version %d by the operator (seq %d): %s",
            game_id,
            asked.version,
            seq,
            asked.reason,
        )


def _completed(game_id: str) -> ApiError:
    return ApiError(
        ErrorCode.GAME_COMPLETED,
        f'Game {game_id!r} is completed. To roll it back and play it again, send "reopen": true.',
    )


def _store_down() -> ApiError:
    return ApiError(
        ErrorCode.STORAGE_UNAVAILABLE,
        "The store cannot be reached (the server runs degraded): a rollback is never queued. "
        "Try again once GET /healthz says ok.",
    )
