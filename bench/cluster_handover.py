"""Handover: how long a player waits when its request reaches a node that does not host its game
(docs/cluster.md, "Handover").

One 6-seat table mid-hand, created on node A. A player's `GET …/state`, with its session token,
is sent straight to A and to B in turn, so every request finds the game on the other node: the
node asks the owner over LISTEN/NOTIFY, the owner stores what it holds, releases the game and
answers, and the asker claims and loads it from PostgreSQL before it answers. Timed per request,
client side, beside the same request to the node that already hosts the game (no move), measured
on the same table in the same run. Each answer must come from the node asked (`X-Rejoin-Node`);
the nodes' `rejoin_handovers_total` must have grown by one per move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from bench.cluster_procs import Cluster, Node
from bench.server_bench import read_counter
from bench.server_games import bearer, expect, seat_table
from rejoin_testkit.tables import Player

WARMUP = 10  # untimed requests of each kind first (the first handover on a node compiles its SQL)


@dataclass(slots=True)
class HandoverRun:
    local: list[float]  # seconds per GET on the node that hosts the game
    moves: list[float]  # seconds per GET on the other node, each one moving the game
    handovers: float  # the nodes' rejoin_handovers_total, grown over the timed moves


def handover(cluster: Cluster, moves: int) -> HandoverRun:
    a, b = cluster.nodes[0], cluster.nodes[1]
    with httpx.Client(base_url=a.url, timeout=30.0) as http:
        table = seat_table(http, 6)
    player = table.players[0]
    with (
        httpx.Client(base_url=a.url, timeout=30.0) as to_a,
        httpx.Client(base_url=b.url, timeout=30.0) as to_b,
    ):
        at = {a.id: to_a, b.id: to_b}
        local = [_get(at, a, player) for _ in range(WARMUP + moves)][WARMUP:]
        for i in range(WARMUP):
            _get(at, b if i % 2 == 0 else a, player)
        before = _handovers(cluster)
        timed = [_get(at, b if i % 2 == 0 else a, player) for i in range(moves)]
    return HandoverRun(local, timed, _handovers(cluster) - before)


def _get(clients: dict[str, httpx.Client], node: Node, player: Player) -> float:
    """One timed `GET …/state` at `node` (a kept-alive connection), which must answer it."""
    url = f"/api/game/{player.game_id}/state"
    headers = bearer(player)
    began = time.perf_counter()
    response = clients[node.id].get(url, headers=headers)
    elapsed = time.perf_counter() - began
    expect(response)
    answered = response.headers.get("x-rejoin-node")
    if answered != node.id:
        raise RuntimeError(f"asked {node.id}, answered by {answered}")
    return elapsed


def _handovers(cluster: Cluster) -> float:
    total = 0.0
    for node in cluster.nodes:
        with httpx.Client(base_url=node.url, timeout=10.0) as client:
            total += read_counter(client, "rejoin_handovers_total")
    return total
