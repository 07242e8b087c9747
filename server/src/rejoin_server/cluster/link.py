"""A node's two coordination connections to PostgreSQL, and joining the cluster with them
(`cluster.membership` drives them).

- The **listening** one (`LISTEN rejoin_cluster`) carries the handover requests, and its backend's
  pid, stored in the node's row, is how the other nodes know this one is alive: PostgreSQL ends a
  backend the moment its client's socket closes, as it does when the process is killed.
- The **working** one sends the heartbeat, the checks, the requests and holds the cleanup lock.

Both are direct (never through a transaction-mode pooler, which keeps neither a session nor a
LISTEN), named in pg_stat_activity, with TCP settings that notice a dead peer within about a lease.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from rejoin_server.cluster.statements import DRAINING, PEERS, REGISTER, TWIN
from rejoin_server.host.ownership import LEASE_MS

CHANNEL = "rejoin_cluster"
# libpq's TCP settings: a machine gone or a partition is noticed within about a lease, not after
# minutes of retransmissions.
TCP = {
    "keepalives": 1,
    "keepalives_idle": 1,
    "keepalives_interval": 1,
    "keepalives_count": 2,
    "tcp_user_timeout": LEASE_MS,
}


class NodeIdInUse(Exception):
    """A node with this id is alive already (at start: the server does not run)."""


class MembershipLost(Exception):
    """The node's row belongs to another live process (a second node runs with this id): this
    one stops serving for good rather than take the row (and the games) back and forth."""


@dataclass(slots=True)
class Link:
    listen: psycopg.AsyncConnection[Any]
    work: psycopg.AsyncConnection[Any]
    pid: int  # the listening connection's backend
    alone: bool  # no other live node when it joined

    async def execute(self, sql: str, params: Any) -> None:
        await self.work.execute(sql, params)

    async def fetch(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await (await self.work.execute(sql, params)).fetchall()

    async def notify(self, payload: str) -> None:
        await self.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    async def close(self) -> None:
        await close(self.listen)
        await close(self.work)


async def dial(url: str, name: str) -> psycopg.AsyncConnection[Any]:
    conninfo = make_conninfo(url, application_name=name, connect_timeout=3, **TCP)
    return await psycopg.AsyncConnection.connect(conninfo, autocommit=True)


async def close(conn: psycopg.AsyncConnection[Any]) -> None:
    with contextlib.suppress(Exception):  # a dead connection may fail to close: gone anyway
        await conn.close()


async def join(
    url: str, node: str, node_url: str, *, previous_pid: int | None, draining: bool
) -> Link:
    """Connect both, and register the node with the listening connection's backend: while it
    lives, so does the node. `previous_pid`: this node's backend before (None at start). Raises
    psycopg's errors, `NodeIdInUse` (at start) or `MembershipLost` (when rejoining) when another
    live process runs under this node id."""
    listen = await dial(url, f"rejoin {node}")
    try:
        work = await dial(url, f"rejoin {node} work")
    except BaseException:
        await close(listen)
        raise
    try:
        await listen.execute(f"LISTEN {CHANNEL}")
        row = await (await listen.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        pid = int(row[0])
        await _refuse_twin(work, node, previous_pid)
        await work.execute(REGISTER, (node, node_url, pid))
        if draining:
            await work.execute(DRAINING, (node,))
        cursor = await work.execute(PEERS, {"node": node, "lease_ms": LEASE_MS})
        peers = await cursor.fetchone()
    except BaseException:
        await close(listen)
        await close(work)
        raise
    return Link(listen, work, pid, alone=peers is None or int(peers[0]) == 0)


async def _refuse_twin(
    work: psycopg.AsyncConnection[Any], node: str, previous_pid: int | None
) -> None:
    """Another live process runs under this node id: both would keep taking the row (and each
    other's games) from each other."""
    params = {"node": node, "lease_ms": LEASE_MS, "previous_pid": previous_pid}
    if await (await work.execute(TWIN, params)).fetchone() is None:
        return
    message = (
        f"node id {node!r} is in use by a live node of this cluster; give each node its own "
        "--node-id"
    )
    # At start the server refuses to run; later (this node was paused or cut off while another
    # process took its id) it stops serving for good.
    raise NodeIdInUse(message) if previous_pid is None else MembershipLost(message)
