"""A cluster for the cluster benchmarks: real `python -m rejoin_server` nodes on one fresh PostgreSQL
database, optionally behind a real HAProxy configured by `rejoin-server proxy-config`
(`rejoin_testkit.haproxy.start_proxy`, as an operator runs it; docs/cluster.md).

The first node starts alone and is waited for (it migrates the empty database), then the others.
Every process is SIGKILLed on the way out, also when a benchmark fails.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.server_games import admin_headers, expect
from bench.server_procs import ServerDatabases, discard, server_proc
from rejoin_testkit.haproxy import start_proxy
from rejoin_testkit.processes import ServerProcess

ROTATION_TIMEOUT_S = 20.0
# Answers in a row through the proxy in which every expected node must have appeared.
ROTATION_WINDOW = 8


@dataclass(frozen=True, slots=True)
class Node:
    id: str  # its --node-id
    proc: ServerProcess

    @property
    def url(self) -> str:
        return self.proc.url


@dataclass(frozen=True, slots=True)
class Cluster:
    nodes: list[Node]
    proxy: ServerProcess | None  # HAProxy in front of every node, if asked for
    database_url: str

    @property
    def url(self) -> str:
        """Where players go: the proxy, else the first node."""
        return self.proxy.url if self.proxy is not None else self.nodes[0].url

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


@contextmanager
def cluster(dbs: ServerDatabases, name: str, count: int, *, proxy: bool) -> Iterator[Cluster]:
    """`count` nodes n1, n2 … on a database of their own, ready, and HAProxy in front of them
    (with `proxy`) once every node is in its rotation."""
    url = dbs.url(True, name)
    nodes = [
        Node(f"n{i}", server_proc(url, f"{name}-n{i}", node_id=f"n{i}"))
        for i in range(1, count + 1)
    ]
    with tempfile.TemporaryDirectory(prefix=f"rejoin_bench_{name}_") as tmp, ExitStack() as stack:
        for node in nodes:  # one at a time: the first migrates the database
            stack.callback(discard, node.proc)
            node.proc.start_ready()
        front: ServerProcess | None = None
        if proxy:
            front, _ = start_proxy(Path(tmp), [n.url for n in nodes])
            stack.callback(front.cleanup)
            front.wait_ready()
            wait_in_rotation(front, [n.id for n in nodes])
        yield Cluster(nodes, front, url)


def wait_in_rotation(proxy: ServerProcess, node_ids: Sequence[str]) -> float:
    """Wait until HAProxy sends requests to every one of `node_ids` (its health checks mark a
    node up 2 checks after it answers, up to about 1.5 s after a restart); the seconds waited.
    `GET /healthz` through the proxy goes round-robin to the healthy nodes and names the node."""
    began = time.perf_counter()
    seen: list[str] = []
    with httpx.Client(base_url=proxy.url, timeout=5.0) as client:
        while time.perf_counter() - began < ROTATION_TIMEOUT_S:
            try:
                answer = client.get("/healthz")
                seen.append(str(answer.json().get("node", "")) if answer.is_success else "")
            except (httpx.TransportError, ValueError):
                seen.append("")
            if set(node_ids) <= set(seen[-ROTATION_WINDOW:]):
                return time.perf_counter() - began
            time.sleep(0.02)
    raise RuntimeError(f"HAProxy did not route to all of {list(node_ids)} in time: {seen[-8:]}")


def health(node: Node) -> dict[str, Any]:
    """The node's /healthz body, whatever its status (a draining node answers 503)."""
    body = httpx.get(f"{node.url}/healthz", timeout=5.0).json()
    assert isinstance(body, dict)
    return body


def touch(base_url: str, game_ids: Sequence[str]) -> dict[str, str]:
    """`GET …/restore` as admin of every game at `base_url` (through the proxy: on the node the
    game hashes to, which takes it over or asks its owner for it); the node that answered each."""
    answered: dict[str, str] = {}
    with httpx.Client(base_url=base_url, timeout=30.0, headers=admin_headers()) as client:
        for game_id in game_ids:
            for _ in range(50):  # a handover that timed out answers 503: a client retries
                response = client.get(f"/api/game/{game_id}/restore")
                if response.status_code != 503:
                    break
                time.sleep(0.05)
            expect(response)
            answered[game_id] = response.headers.get("x-rejoin-node", "")
    return answered
