"""The failover storm: players connected over WebSocket through HAProxy to two nodes on one
PostgreSQL, and nodes killed under them (docs/cluster.md, "Failover").

The tables are the storm benchmark's (`ws_suite`): 6 players each, stopped mid-hand, seated
through the proxy (so each game lives on the node its id hashes to), every player connected by a
`cluster_clients.Followers` worker. Then:

- **kill one node** (`kill_one`): SIGKILL one node. HAProxy's health checks take it out of
  rotation, its players' sockets drop, they dial again through the proxy and the survivor takes
  their games over on first touch. Timed from the kill until each of that node's players is
  welcomed again (by the survivor), and until the last of them. This is what a node crash costs
  its players; the other node's players must not notice.
- **kill both** (`kill_all`): SIGKILL every node, relaunch them all at once: every player back.
  Beside the single-node storm (one process killed and relaunched), it shows what the cluster's
  start-up (claims, liveness, the proxy's checks) adds. Players welcomed by the first node in
  rotation may be moved once more when their game's own node comes into rotation; `settled_s`
  includes those moves.

Between two kills the dead nodes are started again and every game is moved back to the node it
hashes to (`cluster_clients.rebalance`), so every kill starts from the same spread.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.cluster_clients import Followers, Watched
from bench.cluster_procs import Cluster, Node


@dataclass(slots=True)
class FailoverRun:
    """One kill, all times in seconds from it."""

    killed: list[str]
    welcomed: list[float]  # per player of the killed nodes: its first welcome
    wall_s: float  # the last of those
    settled_s: float  # the last welcome of any player, moves after the first welcome included
    attempts: list[int]  # per player of the killed nodes, dials until that welcome
    moves: int  # drops and welcomes of all players
    unexpected: int  # players of surviving nodes whose socket dropped anyway
    nodes_after: Counter[str]
    client_cpu_s: list[float]  # per worker process, from the watch to its report

    @property
    def players(self) -> int:
        return len(self.welcomed)


def _run(killed: Sequence[Node], t0: float, watched: Watched) -> FailoverRun:
    if not watched.first:
        raise RuntimeError(f"no player was on {[n.id for n in killed]}")
    welcomed = [w - t0 for w in watched.first]
    return FailoverRun(
        [n.id for n in killed],
        welcomed,
        max(welcomed),
        max(watched.last) - t0,
        watched.attempts,
        watched.moves,
        watched.unexpected,
        watched.nodes,
        watched.cpu_s,
    )


def kill_one(followers: Followers, victim: Node, quiet_s: float) -> FailoverRun:
    """SIGKILL `victim` and wait until every one of its players was welcomed elsewhere."""
    followers.watch({victim.id}, quiet_s)
    t0 = time.perf_counter()
    victim.proc.kill9()
    return _run([victim], t0, followers.outcome())


def kill_all(cluster: Cluster, followers: Followers, quiet_s: float) -> FailoverRun:
    """SIGKILL every node, relaunch them all at once, wait until every player was welcomed and
    no socket moved for `quiet_s`."""
    followers.watch({n.id for n in cluster.nodes}, quiet_s)
    t0 = time.perf_counter()
    for node in cluster.nodes:
        node.proc.kill9()
    for node in cluster.nodes:
        node.proc.start()
    run = _run(cluster.nodes, t0, followers.outcome())
    for node in cluster.nodes:
        node.proc.wait_ready()
    return run
