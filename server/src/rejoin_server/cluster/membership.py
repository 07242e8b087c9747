"""This node's membership of a cluster on PostgreSQL: its row in `cluster_nodes`, its heartbeat,
and the handover requests between nodes (LISTEN/NOTIFY).

Two direct connections (never through a transaction-mode pooler, which keeps neither a session nor
a LISTEN): one listens, and its backend's pid, stored in the node's row, is how the other nodes
know this one is alive (PostgreSQL ends a backend the moment its client's socket closes, as it does
when the process is killed); the other sends the heartbeat, the requests and the checks.

Every heartbeat also checks that this node still owns each game it hosts (another node may have
taken one over while this one was paused), and drops those it lost. Between heartbeats, `serving`
says whether the last successful one is recent enough that no other node can have taken a game
over since: the other nodes wait for a whole lease (`LEASE_MS`) of silence, this node stops
serving after half of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from rejoin_server.cluster.statements import (
    DRAINING,
    HEARTBEAT,
    LEFT,
    LOST,
    NODES,
    ORPHANS,
    REGISTER,
    TAKE_CLEANUP_LOCK,
    TWIN,
)
from rejoin_server.host.ownership import LEASE_MS

log = logging.getLogger(__name__)

CHANNEL = "rejoin_cluster"
HEARTBEAT_S = 0.5
# This node serves only while its last heartbeat is younger than this (half the lease: the others
# take its games only after a whole lease without one).
SERVING_FOR_S = LEASE_MS / 1000 / 2
# The first retry of a lost connection, doubling up to the last.
RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 0.5


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as `GET /api/cluster` shows it."""

    node: str
    url: str
    heartbeat_at: int
    draining: bool
    alive: bool
    games: int


class NodeIdInUse(Exception):
    """A node with this id is alive already."""


class MembershipLost(Exception):
    """The node's row belongs to another process now (a second node started with this id)."""


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
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._work: psycopg.AsyncConnection[Any] | None = None
        self._pid: int | None = None
        self._renewed_at = float("-inf")  # monotonic time the last good heartbeat was sent
        self._draining = False
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._leading = False  # holds the cleanup lock (on the working connection)

    # --- Coordinator ------------------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        """The lease is fresh; or the database cannot be reached at all, and the games go on from
        memory as on a single node (degraded mode: acknowledged `durable: false`, fenced later if
        another node took a game meanwhile). A node that reaches the database but whose lease
        is stale (it was paused, or its connection was cut) serves nothing until its next
        heartbeat has checked its games."""
        if time.monotonic() - self._renewed_at < SERVING_FOR_S:
            return True
        return self._listen is None and self._degraded()

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
            rows = await self._fetch(TAKE_CLEANUP_LOCK, None)
            self._leading = bool(rows and rows[0][0])
        return self._leading

    async def nodes(self) -> list[NodeInfo]:
        rows = await self._fetch(NODES, {"lease_ms": LEASE_MS})
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
        # Named in pg_stat_activity, so an operator (and a test) can tell whose they are.
        listen = await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=3, application_name=f"rejoin {self.node}"
        )
        work = await psycopg.AsyncConnection.connect(
            self._url,
            autocommit=True,
            connect_timeout=3,
            application_name=f"rejoin {self.node} work",
        )
        await listen.execute(f"LISTEN {CHANNEL}")
        row = await (await listen.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        pid = int(row[0])
        sent = time.monotonic()
        if self._pid is None:
            await self._refuse_twin(work)
        # Registered with the listening connection's backend: while it lives, so does this node.
        await work.execute(REGISTER, (self.node, self._node_url, pid))
        self._listen, self._work, self._pid = listen, work, pid
        self._leading = False  # a lock of the connection before, if any, went with it
        if self._draining:
            await work.execute(DRAINING, (self.node,))
        await self._check_games()
        self._renewed_at = sent

    async def _refuse_twin(self, work: psycopg.AsyncConnection[Any]) -> None:
        """At start: another live process already runs under this node id. Both would keep
        taking the row (and each other's games) from each other."""
        cursor = await work.execute(TWIN, {"node": self.node, "lease_ms": LEASE_MS})
        if await cursor.fetchone() is not None:
            await self._close(work)
            raise NodeIdInUse(
                f"node id {self.node!r} is in use by a live node of this cluster; give each "
                "node its own --node-id"
            )

    @staticmethod
    async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
        with contextlib.suppress(Exception):
            await conn.close()

    async def _disconnect(self) -> None:
        for conn in (self._listen, self._work):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
        self._listen = self._work = None

    async def _execute(self, sql: str, params: Any) -> None:
        if self._work is None:
            raise psycopg.OperationalError("not connected")
        await self._work.execute(sql, params)

    async def _fetch(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        if self._work is None:
            raise psycopg.OperationalError("not connected")
        return await (await self._work.execute(sql, params)).fetchall()

    async def _notify(self, payload: str) -> None:
        await self._execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    # --- the background work ----------------------------------------------------------------------

    async def _run(self) -> None:
        """Listen and beat until stopped; on a lost connection, stop serving, drop the games (the
        others may take them now) and join again."""
        delay = RECONNECT_FIRST_S
        while not self._stopping:
            try:
                if self._listen is None:
                    await self._connect()
                    delay = RECONNECT_FIRST_S
                await asyncio.gather(self._listen_loop(), self._beat_loop())
            except (psycopg.Error, OSError, MembershipLost) as exc:
                if self._stopped():
                    return
                # Another node may take this node's games from now on: serve none of them until
                # rejoined, when the check drops those taken.
                self._renewed_at = float("-inf")
                log.error("cluster: lost the coordination connection (%s); rejoining", exc)
                await self._disconnect()
                if isinstance(exc, psycopg.OperationalError):
                    self._unreachable(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _listen_loop(self) -> None:
        assert self._listen is not None
        async for notify in self._listen.notifies():
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
        sweep_every = 2  # heartbeats between two looks for games in play nobody hosts
        beats = 0
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            sent = time.monotonic()
            rows = await self._fetch(HEARTBEAT, (self.node, self._pid))
            if not rows:
                raise MembershipLost(f"node {self.node}'s row was taken by another process")
            await self._check_games()
            self._renewed_at = sent
            beats += 1
            if beats % sweep_every == 0 and not self._draining:
                await self._sweep()

    async def _check_games(self) -> None:
        hosted = {game_id: epoch for game_id, epoch in self._hosted().items() if epoch is not None}
        if not hosted:
            return
        rows = await self._fetch(LOST, (list(hosted), list(hosted.values()), self.node))
        if rows:
            self._drop_lost([str(row[0]) for row in rows])

    async def _sweep(self) -> None:
        """Load the games in play whose node is gone, so their clocks fire on time even before a
        player comes back (the claim's compare-and-set picks one node for each)."""
        for (game_id,) in await self._fetch(ORPHANS, {"lease_ms": LEASE_MS, "limit": 50}):
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
