"""Drain: how long a node takes to hand every game it holds to the others
(`POST /api/cluster/drain`, docs/cluster.md, "Drain and rolling deploys").

Two nodes behind HAProxy; tables seated through the proxy until one node (A) holds `games` of
them, mid-hand, every player of every table connected over WebSocket through the proxy
(`cluster_clients.Followers`). Then `POST /api/cluster/drain` to A, as admin, timed from the
request:

- until A's `/healthz` says it holds no game (polled straight at A);
- until every one of A's players has been welcomed again, by the other node (A closes their
  sockets with 1012, they dial again through the proxy);
- until every one of A's games answers `GET …/restore` (admin) at the other node, asked once A
  is empty.

A draining node first answers `/healthz` with 503 and waits `DRAIN_GRACE_S` (0.6 s) so that the
proxy takes it out of rotation before it closes any socket (`rejoin_server.api.cluster.DRAIN_GRACE_S`);
the time after that grace is printed too, as the part the handover itself takes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bench.cluster_clients import Followers
from bench.cluster_procs import Node
from bench.server_games import admin_headers, expect

POLL_S = 0.005
EMPTY_TIMEOUT_S = 30.0


@dataclass(slots=True)
class DrainRun:
    """One drain, times in seconds from the request."""

    games: int  # games the node held
    accepted_s: float  # the drain request answered 202
    empty_s: float  # the node's /healthz said games == 0
    welcomed: list[float]  # per player of the drained node, welcomed by another node
    attempts: list[int]  # per player of the drained node, dials until that welcome
    answered_s: float  # every one of its games answered by the other node
    unexpected: int  # players of the other node whose socket dropped anyway


def drain(
    node: Node, other: Node, followers: Followers, game_ids: Sequence[str], quiet_s: float
) -> DrainRun:
    """Drain `node`, which hosts `game_ids`; `other` is asked for each of them afterwards."""
    followers.watch({node.id}, quiet_s)
    with (
        httpx.Client(base_url=node.url, timeout=10.0) as at_node,
        httpx.Client(base_url=other.url, timeout=30.0, headers=admin_headers()) as at_other,
    ):
        held = int(at_node.get("/healthz").json()["games"])
        t0 = time.perf_counter()
        expect(at_node.post("/api/cluster/drain", headers=admin_headers()), 202)
        accepted = time.perf_counter()
        while int(at_node.get("/healthz").json()["games"]) > 0:
            if time.perf_counter() - t0 > EMPTY_TIMEOUT_S:
                raise RuntimeError(f"{node.id} still holds games {EMPTY_TIMEOUT_S:g} s after drain")
            time.sleep(POLL_S)
        empty = time.perf_counter()
        for game_id in game_ids:
            response = at_other.get(f"/api/game/{game_id}/restore")
            expect(response)
            if response.headers.get("x-rejoin-node") != other.id:
                raise RuntimeError(f"{game_id} answered by {response.headers.get('x-rejoin-node')}")
        answered = time.perf_counter()
    watched = followers.outcome()
    return DrainRun(
        held,
        accepted - t0,
        empty - t0,
        [w - t0 for w in watched.first],
        watched.attempts,
        answered - t0,
        watched.unexpected,
    )
