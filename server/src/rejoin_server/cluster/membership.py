"""This node's membership of a cluster on PostgreSQL: its row in `cluster_nodes`, its heartbeat,
and the handover requests between nodes (LISTEN/NOTIFY).

It speaks over two direct connections (`cluster.link`): one listens, and its backend's pid is how
the other nodes know this one is alive; the other sends the heartbeat, the requests and the checks.

Every heartbeat also checks that this node still owns each game it hosts (another node may have
taken one over while this one was paused), and drops those it lost. Between heartbeats, `serving`
says whether the last successful one is recent enough that no other node can have taken a game
over since: the other nodes wait for a whole lease (`LEASE_MS`) of silence, this node stops
serving after half of one, and once a whole lease has gone by without one it drops its games
(closing their sockets with 1012: another node may own them by then). A node alone in its
cluster is the exception while the database cannot be reached: nobody could take its games, so
they go on from memory as on a single node (degraded mode).

Every other heartbeat looks for games in play that need a host: those of dead nodes, those
released by a drain, and this node's own that are not in its memory; it loads them so their
clocks fire on time (the claim's compare-and-set picks one node for each).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from rejoin_server.cluster.link import Link, MembershipLost, join
from rejoin_server.cluster.statements import (
    DRAINING,
    HEARTBEAT,
    LEFT,
    LOST,
    NODES,
    ORPHANS,
    TAKE_CLEANUP_LOCK,
)
from rejoin_server.errors import StorageUnavailable
from rejoin_server.host.ownership import LEASE_MS

log = logging.getLogger(__name__)

HEARTBEAT_S = 0.5
# This node serves only while its last heartbeat is younger than this (half the lease: the others
# take its games only after a whole lease without one).
SERVING_FOR_S = LEASE_MS / 1000 / 2
LEASE_S = LEASE_MS / 1000
# The first retry of a lost connection, doubling up to the last.
RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 0.5
# Heartbeats between two sweeps for games that need a host, and how many a sweep loads at most.
SWEEP_EVERY = 2
SWEEP_LIMIT = 50
# A game in play idle for longer has no clock to keep (the cleanup unloads such games).
SWEEP_RECENT_MS = 10 * 60_000


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as `GET /api/cluster` shows it."""

    node: str
    url: str
    heartbeat_at: int
    draining: bool
    alive: bool
    games: int


class Membership:
    """The `host.ownership.Coordinator` of a cluster on PostgreSQL."""

    def __init__(
        self,
        url: str,
        node: str,
        node_url: str,
        *,
        hand_over: Callable[[str, str], Awaitable[bool]],
        hosted: Callable[[], dict[str, int | None]],
        drop_lost: Callable[[list[str]], None],
        adopt: Callable[[str], Awaitable[object]],
        degraded: Callable[[], bool],
        unreachable: Callable[[BaseException], None],
        kinds: Sequence[str] | None = None,
    ) -> None:
        self._url = url
        self.node = node
        self._node_url = node_url
        self._hand_over = hand_over
        self._hosted = hosted
        self._drop_lost = drop_lost
        self._adopt = adopt
        self._degraded = degraded  # whether the store is down (the games run from memory)
        self._unreachable = unreachable  # tell the host the database cannot be reached
        # The kinds of game this node serves: it adopts no other (None: any).
        self._kinds = None if kinds is None else list(kinds)
        self._link: Link | None = None
        self._pid: int | None = None
        self._renewed_at = float("-inf")  # monotonic time the last good heartbeat was sent
        self._draining = False
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._leading = False  # holds the cleanup lock (on the working connection)
        self._alone = True  # no other live node at the last heartbeat
        self._evicted = False  # another process runs under this node id: serve nothing

    # --- Coordinator ------------------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        """The lease is fresh; or the node was alone in its cluster and the database cannot be
        reached, and its games go on from memory as on a single node (degraded mode: acks say
        `durable: false`). A node that reaches the database but whose lease is stale (it was
        paused, or its connection was cut), or that has peers, serves nothing until a heartbeat
        has checked its games again."""
        if self._evicted:
            return False
        if time.monotonic() - self._renewed_at < SERVING_FOR_S:
            return True
        return self._link is None and self._alone and self._degraded()

    @property
    def draining(self) -> bool:
        return self._draining

    async def ask_for(self, game_id: str, owner: str, timeout_s: float) -> bool:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(game_id, []).append(waiter)
        try:
            await self._notify(f"want {game_id} {owner} {self.node}")
            await asyncio.wait_for(waiter, timeout_s)
            return True
        except (TimeoutError, psycopg.Error):
            return False
        finally:
            waiting = self._waiters.get(game_id, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._waiters.pop(game_id, None)

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the cluster: connect, register, and keep the heartbeat going in the background.
        Raises psycopg's error when the database cannot be reached (the server does not start)."""
        await self._connect()
        self._runner = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Take no more games, say so in the node's row (GET /api/cluster)."""
        self._draining = True
        with contextlib.suppress(psycopg.Error):
            await self._execute(DRAINING, (self.node,))

    async def stop(self) -> None:
        """Leave the cluster: mark the row as left (the other nodes may take its games at once)
        and disconnect."""
        self._stopping = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(psycopg.Error):
            await self._execute(LEFT, (self.node, self._pid))
        await self._disconnect()

    async def leads_cleanup(self) -> bool:
        """Whether this node does the cluster's cleanup: it holds the session advisory lock
        `CLEANUP_LOCK` on its working connection (taken once, kept until the connection ends, so
        the job stays on one node until that node goes)."""
        if not self._leading:
            try:
                rows = await self._fetch(TAKE_CLEANUP_LOCK, None)
            except psycopg.Error as exc:
                raise StorageUnavailable(str(exc)) from exc
            self._leading = bool(rows and rows[0][0])
        return self._leading

    async def nodes(self) -> list[NodeInfo]:
        """Every node that ever joined. Raises `StorageUnavailable` while this node's
        coordination connection is down."""
        try:
            rows = await self._fetch(NODES, {"lease_ms": LEASE_MS})
        except psycopg.Error as exc:
            raise StorageUnavailable(str(exc)) from exc
        return [
            NodeInfo(
                node=str(node),
                url=str(url),
                heartbeat_at=int(heartbeat),
                draining=draining is not None,
                alive=bool(alive) and left is None,
                games=int(games),
            )
            for node, url, heartbeat, draining, left, alive, games in rows
        ]

    def _stopped(self) -> bool:
        return self._stopping

    # --- the connections --------------------------------------------------------------------------

    async def _connect(self) -> None:
        sent = time.monotonic()
        link = await join(
            self._url,
            self.node,
            self._node_url,
            previous_pid=self._link.pid if self._link is not None else self._pid,
            draining=self._draining,
        )
        self._link, self._pid, self._alone = link, link.pid, link.alone
        self._leading = False  # a lock of the connection before, if any, went with it
        await self._check_games()
        self._renewed_at = sent

    async def _disconnect(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    def _connected(self) -> Link:
        if self._link is None:
            raise psycopg.OperationalError("not connected")
        return self._link

    async def _execute(self, sql: str, params: Any) -> None:
        await self._connected().execute(sql, params)

    async def _fetch(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._connected().fetch(sql, params)

    async def _notify(self, payload: str) -> None:
        await self._connected().notify(payload)

    # --- the background work ----------------------------------------------------------------------

    async def _run(self) -> None:
        """Listen and beat until stopped; on a lost connection, stop serving and join again (the
        first heartbeat after it drops the games another node took meanwhile)."""
        delay = RECONNECT_FIRST_S
        while not self._stopped():
            try:
                if self._link is None:
                    await self._reconnect()
                    delay = RECONNECT_FIRST_S
                await self._listen_and_beat()
            except MembershipLost as exc:
                log.error("cluster: %s; this node stops serving", exc)
                self._evicted = True
                self._drop_lost(list(self._hosted()))
                await self._disconnect()
                return
            except (psycopg.Error, OSError, TimeoutError) as exc:
                if self._stopped():
                    return
                self._renewed_at = min(self._renewed_at, time.monotonic() - SERVING_FOR_S)
                log.error("cluster: lost the coordination connection (%s); rejoining", exc)
                await self._disconnect()
                self._give_up_games_if_late()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _reconnect(self) -> None:
        try:
            await self._connect()
        except psycopg.OperationalError as exc:
            # Not the connection but the database is gone: the store is down too, which the
            # host must know (degraded mode) even before a write finds it out.
            self._unreachable(exc)
            raise

    async def _listen_and_beat(self) -> None:
        """Both loops until one fails; the other is cancelled, the failure raised."""
        tasks = [
            asyncio.ensure_future(self._listen_loop()),
            asyncio.ensure_future(self._beat_loop()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # raises the failure
        raise psycopg.OperationalError("the coordination loops ended")

    def _give_up_games_if_late(self) -> None:
        """A whole lease without a heartbeat: other nodes may own this node's games by now. Drop
        them (their sockets close with 1012; the players resume wherever the game is), unless
        this node was alone (nobody can have taken them: they go on degraded)."""
        if self._alone or time.monotonic() - self._renewed_at < LEASE_S:
            return
        hosted = list(self._hosted())
        if hosted:
            log.error("cluster: no heartbeat for %.1f s; dropping %d games", LEASE_S, len(hosted))
            self._drop_lost(hosted)

    async def _listen_loop(self) -> None:
        async for notify in self._connected().listen.notifies():
            self._on_notify(notify.payload)
        raise psycopg.OperationalError("the listening connection ended")

    def _on_notify(self, payload: str) -> None:
        parts = payload.split()
        if parts[:1] == ["want"] and len(parts) == 4 and parts[2] == self.node:
            self._spawn(self._give(parts[1], parts[3]))
        elif parts[:1] == ["released"] and len(parts) == 2:
            for waiter in self._waiters.get(parts[1], []):
                if not waiter.done():
                    waiter.set_result(None)

    async def _give(self, game_id: str, to: str) -> None:
        try:
            if await self._hand_over(game_id, to):
                await self._notify(f"released {game_id}")
        except Exception as exc:
            log.error("cluster: game %s not handed over: %s", game_id, exc)

    async def _beat_loop(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            sent = time.monotonic()
            # A heartbeat that cannot finish within half a lease is a lost connection.
            async with asyncio.timeout(SERVING_FOR_S):
                rows = await self._fetch(
                    HEARTBEAT, {"node": self.node, "pid": self._pid, "lease_ms": LEASE_MS}
                )
                if not rows:
                    raise MembershipLost(f"node {self.node}'s row was taken by another process")
                self._alone = int(rows[0][0]) == 0
                await self._check_games()
            self._renewed_at = sent
            beats += 1
            if beats % SWEEP_EVERY == 0 and not self._draining:
                await self._sweep()

    async def _check_games(self) -> None:
        hosted = {game_id: epoch for game_id, epoch in self._hosted().items() if epoch is not None}
        if not hosted:
            return
        rows = await self._fetch(LOST, (list(hosted), list(hosted.values()), self.node))
        if rows:
            self._drop_lost([str(row[0]) for row in rows])

    async def _sweep(self) -> None:
        """Load the games in play that need a host (see the module), so their clocks fire on time
        even before a player comes back (the claim's compare-and-set picks one node for each)."""
        params = {
            "lease_ms": LEASE_MS,
            "node": self.node,
            "recent_ms": SWEEP_RECENT_MS,
            "limit": SWEEP_LIMIT,
            "kinds": self._kinds,
        }
        hosted = self._hosted()
        for (game_id,) in await self._fetch(ORPHANS, params):
            if game_id not in hosted:
                self._spawn(self._adopt_quietly(str(game_id)))

    async def _adopt_quietly(self, game_id: str) -> None:
        try:
            await self._adopt(game_id)
        except Exception as exc:
            log.info("cluster: game %s not adopted: %s", game_id, exc)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
