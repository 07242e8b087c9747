"""WebSocket players who follow their game from node to node, for the cluster benchmarks.

Each player is a `ws_clients.Client` (hello with its newest token and last seq, welcome, pings)
held connected by a keeper: whenever its socket drops (its node killed, or a node handing its game
over closes it with 1012) it dials again through the proxy with the storm's backoff
(`Client.resume`) until welcomed, and records a `Hop`: when it dropped, when it was welcomed, after
how many attempts, by which node (`welcome.node`). The clients run in forked worker processes
(`follow_process`), like the storm's: a thousand of them are too much CPU for one Python process
beside the nodes on a 2-core machine. The parent drives them with `Followers`:

- `watch(nodes)`, sent before a kill or a drain: each worker notes which of its clients are on
  `nodes` (they are expected to drop and come back) and answers with how many are where;
- `outcome()`: each worker waits until every expected client was welcomed again and no socket
  changed for `quiet_s`, then reports every hop since the watch, merged here into `Watched`.

`rebalance` starts the dead nodes again and moves every game back to the node it hashes to
(`cluster_procs.touch`), then watches no node: it waits for the moved clients to settle.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any

from bench.cluster_procs import Cluster, touch, wait_in_rotation
from bench.ws_clients import Client, Seat, Tally, open_all
from bench.ws_storm import collect, context, shards, stop

SETTLE_TIMEOUT_S = 60.0
POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class Hop:
    """One client's socket dropped and it was welcomed again (perf_counter, comparable across
    processes on Linux)."""

    player: int  # index in its worker's shard
    dropped: float
    welcomed: float
    attempts: int
    node: str  # the node that welcomed it


@dataclass(slots=True)
class Outcome:
    """What one worker reports after a watch."""

    expected: list[int]  # its clients that were on the watched nodes
    hops: list[Hop]  # every drop → welcome since the watch
    nodes: list[str]  # per client, its node now
    cpu_s: float  # the worker's CPU time from the watch to the report


@dataclass(slots=True)
class Watched:
    """Every worker's outcome of one watch, merged."""

    expected: int  # clients on the watched nodes when the watch began
    first: list[float]  # per expected client, its first welcome since the watch
    attempts: list[int]  # per expected client, the attempts to that welcome
    last: list[float]  # per client that moved at all, its last welcome since the watch
    moves: int  # hops of every client
    unexpected: int  # clients that dropped although they were on no watched node
    nodes: Counter[str] = field(default_factory=Counter)  # where the clients are now
    cpu_s: list[float] = field(default_factory=list)  # per worker


class Follower:
    """A client and its keeper's record."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.hops: list[Hop] = []
        self.connected = True
        self.changed = time.perf_counter()  # the last drop or welcome

    async def keep(self, index: int) -> None:
        while True:
            await self.client.serve()
            dropped = self.changed = time.perf_counter()
            self.connected = False
            welcomed, attempts = await self.client.resume()
            self.hops.append(Hop(index, dropped, welcomed, attempts, self.client.node))
            self.connected = True
            self.changed = welcomed


def follow_process(
    index: int, base_ws: str, seats: list[Seat], orders: Queue[Any], out: Queue[Any]
) -> None:
    """Connect `seats`, report their nodes, then answer the parent's orders until `stop`."""
    try:
        asyncio.run(_follow(index, base_ws, seats, orders, out))
    except BaseException as exc:
        out.put(("failed", index, repr(exc)))
        raise


async def _follow(
    index: int, base_ws: str, seats: list[Seat], orders: Queue[Any], out: Queue[Any]
) -> None:
    clients = [Client(base_ws, seat, Tally()) for seat in seats]
    await open_all(clients)
    followers = [Follower(c) for c in clients]
    keepers = [asyncio.create_task(f.keep(i)) for i, f in enumerate(followers)]
    out.put(("ready", index, [c.node for c in clients]))
    try:
        while True:
            order = await asyncio.to_thread(orders.get)
            if order[0] == "stop":
                return
            _, nodes, quiet_s = order
            since = time.perf_counter()
            cpu0 = time.process_time()
            expected = [i for i, f in enumerate(followers) if f.client.node in nodes]
            out.put(("watching", index, Counter(c.node for c in clients)))
            await _settled(followers, keepers, expected, since, quiet_s)
            out.put(
                (
                    "done",
                    index,
                    Outcome(
                        expected,
                        [h for f in followers for h in f.hops if h.welcomed >= since],
                        [c.node for c in clients],
                        time.process_time() - cpu0,
                    ),
                )
            )
    finally:
        for task in keepers:
            task.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in clients))


async def _settled(
    followers: Sequence[Follower],
    keepers: Sequence[asyncio.Task[None]],
    expected: Sequence[int],
    since: float,
    quiet_s: float,
) -> None:
    """Until every expected client was welcomed since `since`, every client is connected and none
    changed for `quiet_s`. A keeper that gave up (its client refused, or not back in time) fails
    the worker."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        for task in keepers:
            if task.done():
                task.result()  # raises what ended it
                raise RuntimeError("a client's keeper ended")
        back = all(any(h.welcomed >= since for h in followers[i].hops) for i in expected)
        connected = all(f.connected for f in followers)
        last = max(f.changed for f in followers)
        if back and connected and time.perf_counter() - max(last, since) >= quiet_s:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"clients not settled within {SETTLE_TIMEOUT_S:g} s")
        await asyncio.sleep(POLL_S)


class Followers:
    """`seats` connected over WebSocket at `base_ws` (the proxy) by `processes` workers."""

    def __init__(self, base_ws: str, seats: Sequence[Seat], processes: int) -> None:
        ctx = context()
        self._out: Queue[Any] = ctx.Queue()
        parts = shards(seats, processes)
        self._orders: list[Queue[Any]] = [ctx.Queue() for _ in parts]
        self._procs: list[BaseProcess] = [
            ctx.Process(
                target=follow_process,
                args=(i, base_ws, part, self._orders[i], self._out),
                daemon=True,
            )
            for i, part in enumerate(parts)
        ]
        self.nodes: Counter[str] = Counter()  # how many clients each node welcomed at first

    def __enter__(self) -> Followers:
        for proc in self._procs:
            proc.start()
        try:
            ready: dict[int, list[str]] = collect(self._out, self._procs, "ready")
        except BaseException:
            stop(self._procs)
            raise
        self.nodes = Counter(n for nodes in ready.values() for n in nodes)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for orders in self._orders:
            orders.put(("stop",))
        stop(self._procs)

    def watch(self, nodes: Collection[str], quiet_s: float) -> Counter[str]:
        """Tell every worker which nodes are about to go; how many clients are on each node."""
        for orders in self._orders:
            orders.put(("watch", frozenset(nodes), quiet_s))
        counts: dict[int, Counter[str]] = collect(self._out, self._procs, "watching")
        return sum(counts.values(), Counter())

    def outcome(self) -> Watched:
        """Wait for every worker's report on the current watch."""
        done: dict[int, Outcome] = collect(self._out, self._procs, "done")
        watched = Watched(0, [], [], [], 0, 0)
        for outcome in done.values():
            by_player: dict[int, list[Hop]] = {}
            for hop in outcome.hops:
                by_player.setdefault(hop.player, []).append(hop)
            watched.expected += len(outcome.expected)
            for player in outcome.expected:
                hops = by_player[player]
                watched.first.append(hops[0].welcomed)
                watched.attempts.append(hops[0].attempts)
            wanted = set(outcome.expected)
            watched.unexpected += sum(1 for p in by_player if p not in wanted)
            watched.last.extend(hops[-1].welcomed for hops in by_player.values())
            watched.moves += len(outcome.hops)
            watched.nodes.update(outcome.nodes)
            watched.cpu_s.append(outcome.cpu_s)
        return watched


def rebalance(
    cluster: Cluster, followers: Followers, game_ids: Sequence[str], quiet_s: float
) -> Counter[str]:
    """Start the dead nodes again, wait until the proxy routes to every node, move every game
    back to the node it hashes to and wait until its players follow; how many players each node
    holds then."""
    for node in cluster.nodes:
        if not node.proc.running:
            node.proc.start_ready()
    assert cluster.proxy is not None, "the storm runs behind HAProxy"
    wait_in_rotation(cluster.proxy, [n.id for n in cluster.nodes])
    touch(cluster.proxy.url, game_ids)
    followers.watch((), quiet_s)
    return followers.outcome().nodes
