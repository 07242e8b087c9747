"""`GameHost`: the games in memory, and what the API layer asks of them.

The host is a facade over one module per concern; each piece of a loaded game's state has one
owner among them:

- `host.loaded_games` (`LoadedGames`): which games are in memory, each loaded once on first touch.
- `host.command_path` (`CommandPath`): the one path by which a game changes, its snapshots.
- `host.seqs` (`SeqMarks`): how far a game's events are published, stored and snapshotted.
- `host.writer` (`GameWriter`): getting the events into the store in order, degraded or not.
- `host.clocks` (`Clocks`): each game's timer, and parking a table nobody is at.
- `host.presence` (`Presence`): readers, WebSockets, seat claims, `last_connected_ms`.
- `host.ownership` (`Ownership`), `host.handovers` (`Handovers`): which games this node may host
  in a cluster; a game is claimed before it is loaded, handed over when another node asks for
  it, released when this node drains (docs/cluster.md).
- `host.creation`, `.reading`, `.room`, `.operations`, `.rollback`, `.preload`: new games (and
  their durability), reads, room for a new game, operator actions, rollbacks, loading games
  after a restart.

Games load lazily, on first touch (once however many requests ask); after a restart a background
task loads the games in play, so their clocks fire from the persisted deadlines.

Longer than 400 lines: a facade, each method a few lines handing the API layer's question to the
module that owns the answer; split, a caller would have to know which module that is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from rejoin_server.console.activity import Activity
from rejoin_server.durability import GameDurability
from rejoin_server.errors import OwnedElsewhere, StateCorrupted, StorageUnavailable
from rejoin_server.games.base import Command, Event, GameState
from rejoin_server.games.kinds import GameKinds
from rejoin_server.host.clocks import Clocks
from rejoin_server.host.command_path import CommandPath, Outcome
from rejoin_server.host.creation import Creation
from rejoin_server.host.handovers import Handovers
from rejoin_server.host.live import END_RELOADED, END_SHUTDOWN, LiveGame, Subscriber
from rejoin_server.host.loaded_games import LoadedGames
from rejoin_server.host.operations import Operations
from rejoin_server.host.ownership import Ownership, not_serving
from rejoin_server.host.preload import warm_up
from rejoin_server.host.presence import Presence
from rejoin_server.host.reading import Reading
from rejoin_server.host.rollback import Rollback, Rollbacks
from rejoin_server.host.tasks import Tasks
from rejoin_server.host.writer import GameWriter
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import Deleted, GameStore
from rejoin_server.store.memory import MemoryGameStore
from rejoin_server.timefmt import now_ms

__all__ = ["GameHost", "Outcome", "Rollback", "StorageHealth"]

log = logging.getLogger(__name__)

# How long a cluster node's shutdown spends handing its games over.
LEAVE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What `/healthz` says of the store."""

    available: bool  # false while the host runs degraded (the store could not be reached)
    pending_events: int  # events published but still queued for the store


class GameHost:
    def __init__(
        self,
        store: GameStore,
        games: GameKinds,
        settings: ServerSettings,
        metrics: Metrics,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.games = games
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        # What happened lately, for the operator console (`rejoin_server.console`).
        self.activity = Activity(clock)
        self.writer = GameWriter(store, metrics, on_stored=self._stored, on_lost=self._lost)
        # The token rows of the games kept in memory only (`ReconnectTokens`): never stored.
        self.memory_tokens = MemoryGameStore()
        self._tasks = Tasks()
        self._leaving: asyncio.Task[None] | None = None  # a cluster node's shutdown handover
        self.ownership = Ownership(store, settings.node, metrics)
        # Built in dependency order; the clock and the command path need each other, so the
        # clock reaches the commit through `_commit_tick`.
        self._games = LoadedGames(
            store,
            games,
            self.writer,
            metrics,
            self._tasks,
            clock=clock,
            on_loaded=self._arm,
            ownership=self.ownership,
            durability=settings.durability,
        )
        self._clocks = Clocks(
            self._games,
            self._tasks,
            clock=clock,
            unattended_after_ms=settings.unattended_after_ms,
            commit=self._commit_tick,
            may_fire=lambda: self.ownership.serving,
            forget=self.forget,
        )
        self._commands = CommandPath(
            settings,
            self.writer,
            self._games,
            clock=clock,
            arm=self._clocks.arm,
            forget=self.forget,
            may_write=lambda: self.ownership.serving,
            acted=self.activity.action,
        )
        self._presence = Presence(
            self._games, clock=clock, attend=self._clocks.attend, left=self.activity.seat_left
        )
        self.handovers = Handovers(
            self._games,
            self._clocks,
            self.writer,
            self.ownership,
            metrics,
            tasks=self._tasks,
            forget=self.forget,
        )
        self._reading = Reading(store, self._games, replay_limit=settings.replay_limit)
        self._operations = Operations(
            store,
            self.writer,
            self._games,
            self.memory_tokens,
            clock=clock,
            execute=self.execute,
            forget=self.forget,
        )
        self._rollbacks = Rollbacks(
            store,
            self.writer,
            self._games,
            metrics,
            clock=clock,
            arm=self._clocks.arm,
            unseated=self._presence.unseated,
            may_write=lambda: self.ownership.serving,
            forget=self.forget,
        )
        self._creation = Creation(
            store,
            games,
            settings,
            metrics,
            ownership=self.ownership,
            games=self._games,
            clock=clock,
            forget=self.forget,
        )

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading the games in play in the background (after a restart: their clocks)."""
        self._tasks.spawn(warm_up(self.store, self.adopt))

    def begin_shutdown(self) -> None:
        """The server is going down: end every event stream now (its client resumes on the next
        process); in a cluster each game is handed over first (stored, released, its sockets
        closed with 1012), so its players resume on another node at once."""
        self._clocks.halt()
        if not self.ownership.clustered:
            self._presence.end_all()
        elif self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())

    async def shutdown_done(self, timeout_s: float) -> None:
        """After `begin_shutdown`: wait (at most `timeout_s`) until the games are handed over and
        every stream has sent its close, before the server closes the rest without a reason."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._presence.ended()  # the handover ends with `end_all`

    async def _leave(self) -> None:
        try:
            # Bounded: a game not handed over in time is taken over once this node is gone.
            async with asyncio.timeout(LEAVE_TIMEOUT_S):
                await self.handovers.drain(grace_s=0, end=END_SHUTDOWN)
        except TimeoutError:
            log.error("shutdown: not every game was handed over within %.0f s", LEAVE_TIMEOUT_S)
        finally:
            self._presence.end_all()

    async def stop(self, flush_timeout_s: float = 10.0) -> None:
        """Graceful shutdown: stop the clocks, end the streams, store what is queued."""
        self.begin_shutdown()
        if self._leaving is not None:
            await asyncio.wait([self._leaving], timeout=flush_timeout_s)
        for live in self._games:
            self._clocks.cancel(live)
        await self._tasks.cancel_all()
        if not await self.writer.flush(flush_timeout_s):
            log.error("shutdown: %d events could not be stored", self.writer.pending_events)
        await self.writer.close()

    # --- the store's health ----------------------------------------------------------------------

    @property
    def storage(self) -> StorageHealth:
        return StorageHealth(not self.writer.degraded, self.writer.pending_events)

    def note_failure(self, exc: BaseException) -> None:
        """A request failed with `exc`. If it found the store down, the host runs degraded from
        now on (so /healthz tells the truth before a write fails) until a probe finds the store
        back. The one way the API layer reports it."""
        if isinstance(exc, StorageUnavailable):
            self.writer.report_unavailable(exc)

    # --- loading ---------------------------------------------------------------------------------

    @property
    def games_active(self) -> int:
        return len(self._games)

    def games_by_durability(self) -> dict[GameDurability, int]:
        """The games in memory by durability, every durability named (for /healthz)."""
        return self._games.by_durability()

    def loaded_games(self) -> list[LiveGame]:
        """Every game in memory here (the operator console lists them)."""
        return list(self._games)

    def in_memory_only(self) -> list[LiveGame]:
        """The games kept in memory only (the cleanup's store queries cannot find them)."""
        return self._games.in_memory_only()

    def loaded(self, game_id: str) -> LiveGame | None:
        return self._games.loaded(game_id)

    async def get(self, game_id: str) -> LiveGame:
        """The game in memory, restored from the store on first touch (asked for from the node
        that holds it, in a cluster). Raises `GameNotFound`, `StateCorrupted`,
        `StorageUnavailable`, and `ApiError(storage_unavailable)` while this node may not serve
        (its lease is not known to be fresh, or the game is on its way here)."""
        if not self.ownership.serving:
            raise not_serving(game_id)
        try:
            return await self._games.get(game_id)
        except OwnedElsewhere:
            # It joined a load that does not ask (the sweep's, `adopt`): ask now.
            return await self._games.get(game_id)

    async def look(self, game_id: str) -> LiveGame:
        """The game for the operator console to read: in memory here, or loaded here if no live
        node holds it. A game another live node holds is left there (`OwnedElsewhere`, naming
        that node): asking for it would close its players' sockets to show it here."""
        if not self.ownership.serving:
            raise not_serving(game_id)
        return await self._games.get(game_id, ask=False)

    async def adopt(self, game_id: str) -> LiveGame | None:
        """Load a game in play that no live node hosts (after a restart, or a node's death), so
        its clocks fire on time; None when a live node holds it (it is left there)."""
        try:
            return await self._games.get(game_id, ask=False)
        except OwnedElsewhere:
            return None

    # --- the cluster (docs/cluster.md) -----------------------------------------------------------

    def forget(self, game_id: str, end: tuple[int, str] = END_RELOADED) -> None:
        """Drop a game from memory (deleted, evicted, moved, or no longer safe to write); its
        readers end with `end`."""
        live = self._games.drop(game_id)
        if live is not None:
            self._clocks.cancel(live)
            self._presence.game_dropped(live, end)

    def unload_idle(self, now: int, idle_ms: int) -> list[str]:
        """Drop from memory the games nobody needs there: no clock running (or completed), nobody
        streaming, nothing queued, no action for `idle_ms`. They reload on the next touch."""
        dropped = self._games.idle(now, idle_ms)
        for game_id in dropped:
            # Still this node's in the store: a node that wants it asks, and is answered at once
            # (`Handovers.hand_over` of a game not in memory). Releasing it here would let the
            # other nodes' sweeps adopt it, only to find it idle and drop it again.
            self.forget(game_id)
        return dropped

    # --- creating and changing games -------------------------------------------------------------

    async def create_game(
        self,
        raw: Mapping[str, Any],
        kind: str | None = None,
        durability: GameDurability | None = None,
    ) -> LiveGame:
        """A game of `kind` (None: the default) with the settings `raw` asks for, completed by
        its engine, and `durability` (None: the rollout rule chooses, see `host.creation`).
        Raises `GameRuleError` (settings refused) or `KindNotServed`."""
        return await self._creation.create_game(raw, kind, durability)

    async def execute(
        self,
        game_id: str,
        command: Command,
        *,
        action_id: str | None = None,
        at_seq: int | None = None,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Apply one command. Raises `ApiError` with the game's rule code when it is refused.

        `action_id` makes the command idempotent: the same id again answers the first result. It is
        opaque here; callers scope it (the API prefixes the player's id).

        `prepare` runs once the game has accepted the command and before its events are stored
        (a join writes the new player's token row there: a refused join writes none). If it
        raises, the game is put back as it was and nothing is stored.

        Once started, a command runs to its end even if the caller is cancelled (a WebSocket
        that closes while its action commits): its events are applied in memory before the
        commit, so stopping half-way would leave memory ahead of what was published and the
        actionId unremembered, and a resent action would then apply twice."""
        live = await self.get(game_id)
        return await asyncio.shield(
            self._commands.execute(live, command, action_id, at_seq, prepare)
        )

    def _arm(self, live: LiveGame) -> None:
        self._clocks.arm(live)

    async def _commit_tick(self, live: LiveGame, events: list[Event], now: int) -> bool:
        return await self._commands.commit(live, events, now)

    def _stored(self, game_id: str, seq: int) -> None:
        """The writer stored a game's events up to `seq`."""
        live = self._games.loaded(game_id)
        if live is not None:
            live.note_stored(seq, self.clock())

    def _lost(self, game_id: str, exc: BaseException) -> None:
        """The writer can never store a game's queued events: memory must not serve it."""
        self.forget(game_id)

    # --- reading and presence --------------------------------------------------------------------

    def reading(self, live: LiveGame) -> AbstractAsyncContextManager[GameState]:
        """Hold the game still while reading it (see `Reading.reading`)."""
        return self._reading.reading(live)

    def view(
        self, live: LiveGame, player_id: str | None, *, also: str | None = None
    ) -> dict[str, Any]:
        """The game as `player_id` sees it, with who is connected right now (and `also`, a player
        about to be)."""
        return self._presence.view(live, player_id, also=also)

    async def events_after(
        self, live: LiveGame, after_seq: int, limit: int | None = None
    ) -> list[Event]:
        """Events with seq > `after_seq` as stored or in memory (raw, not yet redacted), in order,
        at most `limit` of them."""
        return await self._reading.events_after(live, after_seq, limit)

    async def missed_events(
        self, live: LiveGame, player_id: str, last_seq: int | None, last_epoch: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """What a player resuming from `last_seq` missed, or `([], True)`: resync (see
        `Reading.missed_events`). Call it under `reading`."""
        return await self._reading.missed_events(live, player_id, last_seq, last_epoch)

    def subscribe(
        self, live: LiveGame, player_id: str | None, *, presence: bool = False, count: bool = True
    ) -> Subscriber:
        """A reader of every event published from now on (see `Presence.subscribe`)."""
        return self._presence.subscribe(live, player_id, presence=presence, count=count)

    def unsubscribe(self, live: LiveGame, subscriber: Subscriber) -> None:
        self._presence.unsubscribe(live, subscriber)

    def take_seat(self, live: LiveGame, subscriber: Subscriber) -> None:
        """`subscriber` is now the player's WebSocket (see `Presence.take_seat`)."""
        self._presence.take_seat(live, subscriber)

    def supersede(self, live: LiveGame, player_id: str) -> None:
        """The player's seat was resumed elsewhere: their WebSocket, if any, is closed."""
        self._presence.supersede(live, player_id)

    def note_claim(
        self,
        live: LiveGame,
        player_id: str,
        claim: str | None,
        *,
        keep: Subscriber | None = None,
    ) -> None:
        """A join, reconnect or `hello` won the seat with a new claim (see
        `Presence.note_claim`)."""
        self._presence.note_claim(live, player_id, claim, keep=keep)

    def attend(self, live: LiveGame) -> None:
        """A player is at the table again: a game whose next round waited for one goes on."""
        self._clocks.attend(live)

    # --- operator actions ------------------------------------------------------------------------

    async def persist(self, game_id: str, force: bool) -> int:
        """Snapshot the game's state at its seq; return that version. Raises `StorageUnavailable`
        while its earlier events are not stored yet."""
        return await self._operations.persist(game_id, force)

    async def delete(self, game_id: str) -> Deleted:
        """Delete in the store first: if the store is down, the game stays as it was."""
        return await self._operations.delete(game_id)

    async def rollback(self, game_id: str, asked: Rollback) -> int:
        """Roll a game back to a kept snapshot (`host.rollback`); return the seq of its
        `snapshot_restored` event. The game is loaded here unless another live node holds it
        (`OwnedElsewhere`, naming that node, as the operator console's reads)."""
        try:
            live = await self.look(game_id)
        except StateCorrupted:
            # An event its game cannot apply: what a rollback is for. Done on the store alone,
            # then the game loads from the rollback's snapshot.
            seq = await self._rollbacks.roll_back_stored(game_id, asked)
            await self.look(game_id)
            return seq
        return await self._rollbacks.roll_back(live, asked)

    async def abandon(self, game_id: str) -> None:
        """Complete a game nobody plays any more (the cleanup job)."""
        await self._operations.abandon(game_id)
