"""Giving games away (docs/cluster.md): to a node that asks for one, and all of them when this node
drains or shuts down. A game handed over has its queued writes stored, its sockets closed with 1012
(its players resume on the new owner) and its ownership released, in that order and under its lock,
so nothing of it is written here afterwards.

A game kept in memory only (durability `memory`) is no part of this: it has no row, so no node
can own it but the one that created it, and no other node could load it. It is never handed over
nor dropped as lost; it stays here until it ends or this node stops (docs/cluster.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from rejoin_server.host.clocks import Clocks
from rejoin_server.host.live import END_MOVED
from rejoin_server.host.loaded_games import LoadedGames
from rejoin_server.host.ownership import Ownership
from rejoin_server.host.tasks import Tasks
from rejoin_server.host.writer import GameWriter
from rejoin_server.metrics import Metrics

log = logging.getLogger(__name__)

# Games handed over at once while draining.
DRAIN_CONCURRENCY = 16


class Handovers:
    def __init__(
        self,
        games: LoadedGames,
        clocks: Clocks,
        writer: GameWriter,
        ownership: Ownership,
        metrics: Metrics,
        *,
        tasks: Tasks,
        forget: Callable[[str, tuple[int, str]], None],
    ) -> None:
        self._games = games
        self._clocks = clocks
        self._writer = writer
        self._ownership = ownership
        self._metrics = metrics
        self._tasks = tasks
        self._drain_begun = False
        self._forget = forget  # drop a game from memory, closing its sockets with 1012

    async def hand_over(
        self,
        game_id: str,
        to: str | None,
        timeout_s: float = 5.0,
        end: tuple[int, str] = END_MOVED,
    ) -> bool:
        """Another node (`to`) asks for a game: store what is queued, close its sockets (1012:
        they resume on the new owner) and pass it to that node, so no third node's claim can
        slip in between (None: release it to whoever claims first). True when it is passed on
        (or was not ours); False when its queued writes could not be stored in time (it stays
        here)."""
        loading = self._games.loading(game_id)
        if loading is not None:
            done, _ = await asyncio.wait([loading], timeout=timeout_s)
            if not done:
                return False  # still loading here: released now, it would be served twice
        live = self._games.loaded(game_id)
        if live is None:
            await self._ownership.release(game_id, None, to=to)
            return True
        async with live.lock:
            if not self._games.is_current(live):
                return True
            self._clocks.cancel(live)
            if not await self._writer.flush_game(game_id, timeout_s):
                self._clocks.arm(live)
                return False
            self._forget(game_id, end)
            released = await self._ownership.release(game_id, live.owner_epoch, to=to)
        if released:
            self._metrics.handovers.inc()
        return True

    def hosted(self) -> dict[str, int | None]:
        """game_id -> the ownership epoch this node holds it at, for every stored game in memory
        (the ones the cluster may move or take: not those kept in memory only)."""
        return {live.game_id: live.owner_epoch for live in self._games if not live.in_memory_only}

    def drop_lost(self, game_ids: list[str]) -> None:
        """Games another node owns now (or may own: this node could not renew its lease in
        time): drop them, closing their sockets with 1012 so their players resume on the owner."""
        for game_id in game_ids:
            log.warning("game %s: now owned by another node; dropping it", game_id)
            self._forget(game_id, END_MOVED)

    async def release_all(self, timeout_s: float = 5.0, end: tuple[int, str] = END_MOVED) -> int:
        """Hand over every game this node hosts (draining): each is released once its queued
        writes are stored, its sockets closed with 1012. Returns how many were released."""
        games = [live.game_id for live in self._games if not live.in_memory_only]
        gate = asyncio.Semaphore(DRAIN_CONCURRENCY)

        async def one(game_id: str) -> bool:
            async with gate:
                try:
                    return await self.hand_over(game_id, None, timeout_s, end)
                except Exception as exc:  # one game's failure must not keep the others here
                    log.error("drain: game %s not handed over: %s", game_id, exc)
                    return False

        return sum(await asyncio.gather(*(one(game_id) for game_id in games)))

    def begin_drain(self, grace_s: float) -> None:
        """`drain` in the background, once however many times it is asked for."""
        if not self._drain_begun:
            self._drain_begun = True
            self._tasks.spawn(self.drain(grace_s))

    async def drain(self, grace_s: float, end: tuple[int, str] = END_MOVED) -> int:
        """Give every game away and take no new ones (`POST /api/cluster/drain`, SIGTERM): first
        say so (/healthz answers 503, so the proxy stops sending players here), wait `grace_s`
        for the proxy to notice, then hand each game over. Returns how many were released."""
        await self._ownership.coordinator.drain()
        await asyncio.sleep(grace_s)
        released = await self.release_all(end=end)
        log.info("drained: handed over %d games", released)
        return released
