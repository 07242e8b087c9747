"""The cleanup job: run every `cleanup_interval`, it keeps the store from growing without bound.

Each round: delete expired reconnect tokens; complete games nobody has acted in for
`abandon_after` (a `game_completed` event with reason `abandoned`, so players see why); delete
completed games older than `retention`; then enforce the storage quota (oldest completed first,
never a game in play); drop from memory the games idle for `UNLOAD_IDLE_MS` that need no clock
(they reload on the next touch); and measure what is stored for `/metrics`.

In a cluster every node drops its own idle games, but the work on the shared store runs on one
node at a time, the one `leads` says holds the cluster's cleanup lock (`Membership.leads_cleanup`):
N nodes deleting the same rows and abandoning the same games would only contend.

Games kept in memory only (durability `memory`) have no row for those queries to find, and no
quota counts them. Every node looks after its own, each round: their expired token rows go, a game
nobody has acted in for `abandon_after` is completed like any other, and a completed one is
dropped from memory `retention` after it ended (as a stored one is deleted). Never before: unlike
a stored game, one dropped as idle could never be loaded again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rejoin_server.errors import CodedError, StorageUnavailable
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore

log = logging.getLogger(__name__)

UNLOAD_IDLE_MS = 10 * 60_000


class CleanupJob:
    def __init__(
        self,
        store: GameStore,
        host: GameHost,
        settings: ServerSettings,
        metrics: Metrics,
        *,
        leads: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._store = store
        self._leads = leads  # whether this node does the store's cleanup (None: always)
        self._host = host
        self._settings = settings
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        interval_s = self._settings.cleanup_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.run_once()
            except StorageUnavailable as exc:
                log.warning("cleanup skipped, the store is unavailable: %s", exc)
            except Exception:  # the job must outlive one bad round
                log.exception("cleanup round failed")

    async def run_once(self) -> None:
        now = self._host.clock()
        unloaded = self._host.unload_idle(now, UNLOAD_IDLE_MS)
        if unloaded:
            log.info("cleanup: %d idle games dropped from memory", len(unloaded))
        await self._in_memory_only(now)
        if self._leads is not None and not await self._leads():
            return
        await self._store.delete_expired_tokens(now)
        await self._abandon_idle(now)
        expired = await self._store.evict_completed(now - self._settings.retention_ms)
        self._evicted(expired, "retention")
        settings = self._settings
        if settings.max_games is not None or settings.max_storage_bytes is not None:
            victims = await self._store.evict_for_quota(
                settings.max_games, settings.max_storage_bytes
            )
            self._evicted(victims, "quota")
        usage = await self._store.usage()
        self._metrics.stored_bytes.set(usage.bytes)
        self._metrics.stored_games.set(usage.games)
        self._metrics.stored_snapshots.set(usage.snapshots)

    async def _abandon_idle(self, now: int) -> None:
        limit = self._settings.abandon_after_ms
        for status in ("waiting", "playing"):
            for record in await self._store.list_games(status=status):
                live = self._host.loaded(record.game_id)
                last = live.last_activity_ms if live is not None else record.updated_at
                if now - last < limit:
                    continue
                try:
                    await self._host.abandon(record.game_id)
                except CodedError as exc:
                    log.warning("cleanup: game %s not abandoned: %s", record.game_id, exc)
                else:
                    log.info(
                        "cleanup: game %s abandoned after %d ms idle", record.game_id, now - last
                    )

    async def _in_memory_only(self, now: int) -> None:
        await self._host.memory_tokens.delete_expired_tokens(now)
        ended = 0
        for live in self._host.in_memory_only():
            game_id = live.game_id
            if live.completed_at_ms is not None:
                if now - live.completed_at_ms >= self._settings.retention_ms:
                    try:
                        await self._host.delete(game_id)
                    except CodedError as exc:  # gone meanwhile (deleted by the operator)
                        log.warning("cleanup: game %s not dropped: %s", game_id, exc)
                    else:
                        ended += 1
            elif now - live.last_activity_ms >= self._settings.abandon_after_ms:
                try:
                    await self._host.abandon(game_id)
                except CodedError as exc:
                    log.warning("cleanup: game %s not abandoned: %s", game_id, exc)
                else:
                    log.info(
                        "cleanup: game %s (in memory only) abandoned after %d ms idle",
                        game_id,
                        now - live.last_activity_ms,
                    )
        if ended:
            self._metrics.games_evicted.labels("retention").inc(ended)
            log.info("cleanup: %d completed games kept in memory only dropped", ended)

    def _evicted(self, game_ids: list[str], reason: str) -> None:
        for game_id in game_ids:
            self._host.forget(game_id)
        if game_ids:
            self._metrics.games_evicted.labels(reason).inc(len(game_ids))
            log.info("cleanup: %d games deleted (%s)", len(game_ids), reason)
