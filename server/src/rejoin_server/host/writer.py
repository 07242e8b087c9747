"""Getting each game's events into the store in order, whatever the store is doing.

- **strict** (the default): the caller waits for the commit, so an action is acknowledged only once
  it is stored (write-ahead) and `durable` is true.
- **relaxed**: the write is queued and the caller goes on (`durable: false`); a background task per
  game drains the queue.
- **degraded**: when the store cannot be reached, a strict write joins its game's queue instead of
  failing, and the game goes on in memory. While the store is down, new writes queue at once
  rather than each paying a connect timeout. The drain retries with capped backoff and writes
  each game's queue strictly in order, so the log gets no gap and no duplicate: a write whose
  commit went through but whose answer was lost shows up as a seq conflict, and is recognised by
  the game's stored `last_seq` covering it.

Each write says which it is (`PendingWrite.strict`): durability is a game's, chosen when it is
created (`rejoin_server.durability`), so one server writes strict and relaxed games side by side.

A game's queue is drained by one task, so at most one write per game is in flight; writes of
different games run concurrently and are group-committed by the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rejoin_server.errors import Fenced, SeqConflict, StorageUnavailable
from rejoin_server.games.base import Event, GameStatus
from rejoin_server.metrics import Metrics
from rejoin_server.store.base import Epoch, GameStore, Seating, SnapshotWrite
from rejoin_server.store.codec import decode_object

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.05
MAX_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class PendingWrite:
    game_id: str
    events: Sequence[Event]
    status: GameStatus
    now_ms: int
    snapshot: SnapshotWrite | None
    action_id: str | None
    history: Sequence[Epoch] | None = None  # the game's history epochs, when they change
    owner_epoch: int | None = None  # the ownership epoch the write is fenced on
    strict: bool = True  # the caller waits for the commit (else it is queued at once)
    seating: Seating | None = None  # the game's seating for the lobby, when it changed

    @property
    def last_seq(self) -> int:
        if self.events:
            return self.events[-1].seq
        return self.snapshot.version if self.snapshot is not None else 0


class GameWriter:
    def __init__(
        self,
        store: GameStore,
        metrics: Metrics,
        *,
        on_stored: Callable[[str, int], None],
        on_lost: Callable[[str, BaseException], None],
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._on_stored = on_stored  # (game_id, seq): everything up to seq is now durable
        self._on_lost = on_lost  # a game whose queue can never be written (another writer won)
        self._queues: dict[str, deque[PendingWrite]] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._unavailable = False
        self._pending_events = 0
        self._probe: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        return self._unavailable

    @property
    def pending_events(self) -> int:
        return self._pending_events

    def has_pending(self, game_id: str) -> bool:
        return bool(self._queues.get(game_id))

    async def write(self, item: PendingWrite) -> bool:
        """Store `item` (a strict one) or queue it behind the game's earlier writes. True when it
        is stored.

        Raises `SeqConflict` / `GameNotFound` when the store refuses it for good (strict writes
        only; queued writes report those through `on_lost`)."""
        if not item.strict or self._unavailable or self.has_pending(item.game_id):
            self._enqueue(item)
            return False
        try:
            await self._append(item)
        except StorageUnavailable as exc:
            log.warning(
                "store unavailable, game %s goes on in memory: %s", item.game_id, exc.problem
            )
            self._set_unavailable(True)
            self._enqueue(item)
            return False
        return True

    async def flush(self, timeout_s: float) -> bool:
        """Wait until every queue is drained (graceful shutdown). False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._drains:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.wait(list(self._drains.values()), timeout=remaining)
        return True

    def report_unavailable(self, exc: StorageUnavailable) -> None:
        """Any caller that found the store down (a read, a token) says so, so /healthz tells the
        truth before a write fails. A probe then finds out when it is back."""
        if not self._unavailable:
            log.warning("store unavailable: %s", exc.problem)
        self._set_unavailable(True)
        if self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        delay = FIRST_RETRY_S
        try:
            while self._unavailable:
                if self._drains:
                    # The drains retry writes anyway; the first that succeeds clears the flag.
                    await asyncio.sleep(delay)
                    continue
                try:
                    await self._store.get_game("")
                except StorageUnavailable:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                self._set_unavailable(False)
        finally:
            self._probe = None

    async def flush_game(self, game_id: str, timeout_s: float) -> bool:
        """Wait until one game's queue is drained. False on timeout."""
        task = self._drains.get(game_id)
        if task is None:
            return True
        done, _ = await asyncio.wait([task], timeout=timeout_s)
        return bool(done)

    async def close(self) -> None:
        tasks = list(self._drains.values())
        if self._probe is not None:
            tasks.append(self._probe)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _append(self, item: PendingWrite) -> None:
        started = time.perf_counter()
        try:
            await self._store.append(
                item.game_id,
                item.events,
                status=item.status,
                now_ms=item.now_ms,
                snapshot=item.snapshot,
                action_id=item.action_id,
                history=item.history,
                owner_epoch=item.owner_epoch,
                seating=item.seating,
            )
        except Fenced:
            self._metrics.fenced_writes.inc()
            raise
        self._metrics.persist_seconds.observe(time.perf_counter() - started)
        self._on_stored(item.game_id, item.last_seq)

    def _enqueue(self, item: PendingWrite) -> None:
        self._queues.setdefault(item.game_id, deque()).append(item)
        self._add_pending(len(item.events))
        if item.game_id not in self._drains:
            task = asyncio.get_running_loop().create_task(self._drain(item.game_id))
            self._drains[item.game_id] = task

    async def _drain(self, game_id: str) -> None:
        queue = self._queues[game_id]
        delay = FIRST_RETRY_S
        try:
            while queue:
                item = queue[0]
                try:
                    await self._append(item)
                except StorageUnavailable:
                    self._set_unavailable(True)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                except Fenced as exc:
                    # Another node owns the game now: whatever this queue holds is not its
                    # history, and never will be.
                    self._give_up(game_id, exc)
                    return
                except SeqConflict as exc:
                    try:
                        ours = await self._already_stored(item)
                    except StorageUnavailable:
                        # Cannot tell yet: retry the write later, never drop the queue for it.
                        self._set_unavailable(True)
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, MAX_RETRY_S)
                        continue
                    if not ours:
                        self._give_up(game_id, exc)
                        return
                    self._on_stored(game_id, item.last_seq)
                except Exception as exc:  # GameNotFound (deleted meanwhile) and the unforeseen
                    self._give_up(game_id, exc)
                    return
                self._set_unavailable(False)
                delay = FIRST_RETRY_S
                queue.popleft()
                self._add_pending(-len(item.events))
        finally:
            if not queue:
                self._queues.pop(game_id, None)
            self._drains.pop(game_id, None)

    async def _already_stored(self, item: PendingWrite) -> bool:
        """A retried write that conflicts may have been committed by the attempt whose answer was
        lost. It is ours only if the stored events at its seqs are exactly its events: another
        writer's events at the same seqs are a fork, not our commit. Raises StorageUnavailable."""
        if not item.events:
            record = await self._store.get_game(item.game_id)
            return record is not None and record.last_seq >= item.last_seq
        first = item.events[0].seq
        stored = await self._store.read_events(item.game_id, first - 1, len(item.events))
        if len(stored) != len(item.events):
            return False
        for raw, event in zip(stored, item.events, strict=True):
            if (raw.seq, raw.kind, raw.at) != (event.seq, event.kind, event.at):
                return False
            try:
                if decode_object(raw.data) != dict(event.data):
                    return False
            except ValueError:
                return False
        return True

    def _give_up(self, game_id: str, exc: BaseException) -> None:
        queue = self._queues.pop(game_id, deque())
        self._add_pending(-sum(len(item.events) for item in queue))
        log.error("game %s: its queued writes cannot be stored (%s); unloading it", game_id, exc)
        self._set_unavailable(False)  # the store answered: it is reachable
        self._on_lost(game_id, exc)

    def _set_unavailable(self, unavailable: bool) -> None:
        if unavailable != self._unavailable:
            self._unavailable = unavailable
            self._metrics.degraded.set(1 if unavailable else 0)
            if not unavailable:
                log.warning("store reachable again; draining queued writes")

    def _add_pending(self, count: int) -> None:
        self._pending_events += count
        self._metrics.pending_writes.set(self._pending_events)
