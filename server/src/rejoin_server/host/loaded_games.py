"""The games in memory: each loaded from the store on first touch, once however many requests
ask for it at the same time.

A load restores the game's state (its snapshot and the events after it), its recent actionIds,
seat claims and history epochs. A game is dropped from memory when it is deleted, evicted, idle,
or no longer safe to write (`GameHost.forget`); the next touch loads it again.

A game kept in memory only (durability `memory`) is never loaded: it is here from its creation
until it is deleted or ends, never dropped as idle, and a touch of one that is not here answers
`game_not_found` saying why, without asking the store (`MemoryGameGone`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator

from rejoin_protocol.errors import ErrorCode
from rejoin_server.durability import DURABILITIES, GameDurability, is_memory_id, of_stored
from rejoin_server.errors import ApiError, KindNotServed, MemoryGameGone
from rejoin_server.games.kinds import GameKinds, UnservedKind
from rejoin_server.host.history import History
from rejoin_server.host.lineage import Lineage
from rejoin_server.host.live import LiveGame
from rejoin_server.host.ownership import Ownership
from rejoin_server.host.seqs import SeqMarks
from rejoin_server.host.tasks import Tasks
from rejoin_server.host.writer import GameWriter
from rejoin_server.metrics import Metrics
from rejoin_server.settings import Durability
from rejoin_server.store.base import GameStore
from rejoin_server.store.codec import decode_object
from rejoin_server.store.restore import Restored, restore_game

log = logging.getLogger(__name__)


def still_storing(what: str) -> ApiError:
    """The store is reachable but behind this game (its queue is draining): a 503 that is not an
    outage, so it does not mark the store unavailable."""
    return ApiError(ErrorCode.STORAGE_UNAVAILABLE, f"{what}; try again in a moment.")


class LoadedGames:
    def __init__(
        self,
        store: GameStore,
        kinds: GameKinds,
        writer: GameWriter,
        metrics: Metrics,
        tasks: Tasks,
        *,
        clock: Callable[[], int],
        on_loaded: Callable[[LiveGame], None],
        ownership: Ownership | None = None,
        durability: Durability = "strict",
    ) -> None:
        self._store = store
        self.kinds = kinds  # the engines, by kind, that games are restored with
        self._writer = writer
        self._metrics = metrics
        self._tasks = tasks
        self._clock = clock
        self._on_loaded = on_loaded  # a game just loaded (its clock starts there)
        # Own the game before reading it (docs/cluster.md).
        self._ownership = ownership
        # What a stored game that was created before durability was chosen per game follows.
        self._durability = durability
        self._games: dict[str, LiveGame] = {}
        self._by_durability: Counter[GameDurability] = Counter()
        self._loading: dict[str, asyncio.Future[LiveGame]] = {}
        # Seat claims taken while their game was loading: the load may have read the store first.
        self._claimed_while_loading: dict[str, dict[str, str]] = {}

    def __len__(self) -> int:
        return len(self._games)

    def __iter__(self) -> Iterator[LiveGame]:
        return iter(list(self._games.values()))

    def loaded(self, game_id: str) -> LiveGame | None:
        return self._games.get(game_id)

    def is_current(self, live: LiveGame) -> bool:
        """Is `live` the game's copy in memory (not one dropped since, nor replaced by a reload)?"""
        return self._games.get(live.game_id) is live

    def require_current(self, live: LiveGame) -> None:
        """After waiting for a game's lock: it may have been dropped from memory meanwhile."""
        if not self.is_current(live):
            raise ApiError(
                ErrorCode.STALE_STATE,
                "This game was reloaded while your request waited; send it again.",
            )

    async def get(self, game_id: str, *, ask: bool = True) -> LiveGame:
        """The game in memory, restored from the store on first touch. Raises `GameNotFound`,
        `StateCorrupted`, `StorageUnavailable`. A game another live node owns is asked for
        (`Ownership.claim`); without `ask`, `OwnedElsewhere` is raised instead."""
        live = self._games.get(game_id)
        if live is not None:
            return live
        if is_memory_id(game_id):
            raise MemoryGameGone(game_id)
        loading = self._loading.get(game_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[game_id] = loading
            self._tasks.spawn(self._load(game_id, loading, ask))
        return await asyncio.shield(loading)

    def loading(self, game_id: str) -> asyncio.Future[LiveGame] | None:
        """The load of a game under way, if any."""
        return self._loading.get(game_id)

    def add(self, live: LiveGame) -> None:
        """A game created here: in memory from the start."""
        self._games[live.game_id] = live
        self._count(live.durability, 1)

    def drop(self, game_id: str) -> LiveGame | None:
        """Take a game out of memory; the caller ends its clock and its readers."""
        live = self._games.pop(game_id, None)
        if live is not None:
            self._count(live.durability, -1)
        return live

    def _count(self, durability: GameDurability, change: int) -> None:
        self._by_durability[durability] += change
        self._metrics.games_active.set(len(self._games))
        self._metrics.games_hosted.set(len(self._games))
        self._metrics.games_by_durability.labels(durability).set(self._by_durability[durability])

    def by_durability(self) -> dict[GameDurability, int]:
        """How many games are in memory, by durability (every durability named, 0 or not)."""
        return {durability: self._by_durability[durability] for durability in DURABILITIES}

    def in_memory_only(self) -> list[LiveGame]:
        """The games kept in memory only (durability `memory`)."""
        return [live for live in self._games.values() if live.in_memory_only]

    def rewind(self, live: LiveGame, before: bytes) -> None:
        """Put the game back as `before` (its `dump()` as canonical JSON, so that lists the dump
        shares with the state are not changed along with it): a command or tick applied in
        memory that nobody may see."""
        engine = self.kinds.engine(live.kind)
        live.state = engine.load(live.game_id, live.settings, decode_object(before))

    def rewind_failed(self, live: LiveGame, before: bytes | None) -> bool:
        """After its engine failed half-way: a game kept in memory only goes back to `before`
        (it has no store to reload from). False when it cannot: the caller drops the game, which
        is then lost, rather than serve a state half changed."""
        if before is None:
            return False
        try:
            self.rewind(live, before)
        except Exception as exc:
            log.error(
                "game %s: its last state does not load back (%r); it is lost", live.game_id, exc
            )
            return False
        return True

    async def still_holds(self, live: LiveGame, seq: int) -> bool:
        """Whether the game's state still holds what happened at `seq`: no operator's rollback
        undid it (`host.lineage`). May read the store (rollbacks stored before the load)."""
        if live.in_memory_only:
            return True
        return await live.lineage.holds_stored(self._store, live.game_id, seq, live.state.seq)

    def claim_while_loading(self, game_id: str, player_id: str, claim: str) -> None:
        """A seat claim taken now: if the game is loading, the load may have read the store
        before the claim was written, so it applies the claim once it is done."""
        if game_id in self._loading:
            self._claimed_while_loading.setdefault(game_id, {})[player_id] = claim

    def idle(self, now: int, idle_ms: int) -> list[str]:
        """The games nobody needs in memory: no clock running (or completed), nobody streaming,
        nothing queued, no action for `idle_ms`. They reload on the next touch."""
        idle = []
        for game_id, live in self._games.items():
            if live.in_memory_only:
                continue  # nowhere to reload it from: dropped, it would be lost
            if live.subscribers or live.lock.locked() or self._writer.has_pending(game_id):
                continue
            if live.state.status != "completed" and live.state.next_deadline() is not None:
                continue
            if now - live.last_activity_ms < idle_ms:
                continue
            idle.append(game_id)
        return idle

    async def _load(self, game_id: str, done: asyncio.Future[LiveGame], ask: bool) -> None:
        try:
            if self._writer.has_pending(game_id):
                # Dropped from memory with writes still queued: the store is behind what players
                # saw, and a game loaded from it now would reuse their seqs.
                raise still_storing("Its last moves are still being stored")
            # Owned before it is read: a node that held it before is fenced from then on, so
            # nothing it might still write can land after this read.
            ownership = self._ownership
            owner_epoch = None if ownership is None else await ownership.claim(game_id, ask=ask)
            started = time.perf_counter()
            try:
                restored = await self._restore(game_id)
            except KindNotServed:
                # Not for this node: let go, so that a node that serves its kind may take it.
                if ownership is not None:
                    await ownership.release(game_id, owner_epoch)
                raise
            actions = await self._store.recent_actions(game_id)
            self._metrics.restore_seconds.observe(time.perf_counter() - started)
            base = restored.snapshot_version
            for problem in restored.rejected_snapshots:
                log.warning(
                    "game %s: %s; restored from %s",
                    game_id,
                    problem,
                    f"snapshot {base}" if base else "its first event (no snapshot opened)",
                )
            state = restored.state
            live = LiveGame(
                state=state,
                kind=restored.kind,
                # Before its first command here, a game's last activity is its last write.
                last_activity_ms=restored.last_stored_ms or self._clock(),
                marks=SeqMarks(state.seq, restored.snapshot_version, restored.last_stored_ms),
                settings=restored.settings,
                claims=dict(restored.claims),
                history=History.begin(restored.history, state.seq + 1),
                owner_epoch=owner_epoch,
                durability=of_stored(restored.durability, self._durability),
                lineage=Lineage(known_after=state.seq),
            )
            live.remember_actions(actions.items())
            live.claims.update(self._claimed_while_loading.pop(game_id, {}))
            self.add(live)
            self._on_loaded(live)
            done.set_result(live)
        except BaseException as exc:
            done.set_exception(exc)
            done.exception()  # retrieved here: a load nobody awaits must not warn
            if not isinstance(exc, Exception):
                raise
        finally:
            self._loading.pop(game_id, None)
            self._claimed_while_loading.pop(game_id, None)

    async def _restore(self, game_id: str) -> Restored:
        try:
            return await restore_game(self._store, self.kinds, game_id)
        except UnservedKind as exc:
            raise KindNotServed(exc.kind, exc.served, game_id) from exc
