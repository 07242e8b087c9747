"""Live durable actions per second on one node and on two behind HAProxy, on one PostgreSQL.

Tables of 6 bots over WebSocket, each acting as soon as its stream says its turn has come, so
every table plays as fast as its acks come back (`ws_fanout.run_fanout`: the WebSocket suite's
fan-out window). Strict durability: an ack means the action's events are committed in PostgreSQL.
The same workload runs on three set-ups, each a fresh cluster on a fresh database:

- one node, the clients connected to it directly (what the proxy costs, by difference);
- one node behind HAProxy;
- two nodes behind HAProxy, each game on the node its id hashes to.

Two nodes over one behind the same proxy is the scaling figure. On a 2-core machine the nodes,
PostgreSQL, HAProxy and the clients share the same two cores, so the printout gives how busy the
whole machine was: once it is near 100%, a second node has no core of its own to scale on.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.cluster_procs import cluster
from bench.server_procs import ServerDatabases
from bench.ws_fanout import FanoutRun, run_fanout, seat_idle


@dataclass(frozen=True, slots=True)
class Setup:
    label: str
    nodes: int
    proxy: bool


SETUPS = (
    Setup("1 node, direct", 1, False),
    Setup("1 node, HAProxy", 1, True),
    Setup("2 nodes, HAProxy", 2, True),
)


@dataclass(slots=True)
class RateRun:
    setup: Setup
    fanout: FanoutRun

    @property
    def rate(self) -> float:
        return self.fanout.acks / self.fanout.window_s


def measure(
    dbs: ServerDatabases,
    setup: Setup,
    *,
    tables: int,
    processes: int,
    warmup_s: float,
    window_s: float,
) -> RateRun:
    name = f"cluster_rate_{setup.nodes}{'p' if setup.proxy else 'd'}"
    with (
        cluster(dbs, name, setup.nodes, proxy=setup.proxy) as running,
        httpx.Client(base_url=running.url, timeout=30.0) as http,
    ):
        seated = [seat_idle(http, 6) for _ in range(tables)]
        fanout = run_fanout(
            http,
            ws_url(running.url),
            seated,
            [n.proc for n in running.nodes],
            processes=processes,
            warmup_s=warmup_s,
            window_s=window_s,
        )
    return RateRun(setup, fanout)


def ws_url(http_url: str) -> str:
    return "ws://" + http_url.removeprefix("http://")
