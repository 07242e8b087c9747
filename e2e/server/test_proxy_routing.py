"""Three real nodes behind a real HAProxy, configured by `rejoin-server proxy-config` (run as a
user runs it): a game's requests, its page and its WebSocket reach one node, the games spread over
the nodes, everything else goes to any node, and a node killed with kill -9 has its games answered
by another within two seconds (retried at once, then routed around by the health checks).

Each node has its own SQLite file: a game exists on the node that created it alone, so the
routing is seen in the `X-Rejoin-Node` header every answer carries (a 404 `game_not_found`
included), and the WebSocket test uses a game created on the node its id hashes to. A cluster on
one PostgreSQL is what production runs; which node answers does not depend on the database.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from e2e.support.ws import Resume, open_ws
from rejoin_testkit.api import Api
from rejoin_testkit.haproxy import start_proxy
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

NODE = "X-Rejoin-Node"
NAMES = ("n1", "n2", "n3")
GAMES = 30
# A table that never moves on its own: the WebSocket test only says hello and pings.
TABLE = {"seats": 2, "actionTimeoutMs": 600_000, "autoNextHand": False}
FAILOVER_BUDGET_S = 2.0


@dataclass
class Cluster:
    nodes: dict[str, ServerProcess]  # by node id
    proxy: ServerProcess  # HAProxy, started and waited for like a server (GET /healthz)
    config: str

    @property
    def url(self) -> str:
        return self.proxy.url


@contextmanager
def cluster_at(tmp: Path) -> Iterator[Cluster]:
    """Three nodes (n1, n2, n3, each on its own SQLite file) and HAProxy in front of them, with
    the configuration `rejoin-server proxy-config` prints; every process killed on the way out."""
    nodes = {
        name: ServerProcess(
            tmp / f"{name}.log",
            database_url=f"sqlite:///{tmp / name}.db",
            args=["--node-id", name],
        )
        for name in NAMES
    }
    started = list(nodes.values())
    try:
        for node in nodes.values():  # all three start at once, then each is waited for
            node.start()
        for node in nodes.values():
            node.wait_ready()
        proxy, config = start_proxy(tmp, [node.url for node in nodes.values()])
        started.append(proxy)
        proxy.wait_ready()
        yield Cluster(nodes, proxy, config)
    finally:
        for process in started:
            process.cleanup()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with cluster_at(tmp_path) as running:
        yield running


@pytest.fixture
def client(cluster: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.url, timeout=5.0) as made:
        yield made


def node_of(client: httpx.Client, method: str, path: str) -> str:
    """The node that answered `method path` through the proxy. Whatever its status (a page is
    503 without the browser bundle), the answer must be a node's, which names itself: never the
    proxy's own 502, 503 or 504, which names none."""
    reply = client.request(method, path)
    node = str(reply.headers.get(NODE, ""))
    assert node in NAMES, f"{method} {path} -> {reply.status_code} from no node: {reply.text}"
    return node


def game_ids() -> list[str]:
    tag = secrets.token_hex(3)
    return [f"proxy-{tag}-{i:02d}" for i in range(GAMES)]


def owners(client: httpx.Client, ids: list[str]) -> dict[str, str]:
    """The node each game's state is asked of."""
    return {game_id: node_of(client, "GET", f"/api/game/{game_id}/state") for game_id in ids}


def test_every_request_of_a_game_goes_to_one_node_and_the_games_spread(
    cluster: Cluster, client: httpx.Client
) -> None:
    ids = game_ids()
    owner = owners(client, ids)
    for game_id in ids:
        seen = {
            node_of(client, "GET", f"/api/game/{game_id}/state"),
            node_of(client, "GET", f"/api/game/{game_id}/events"),
            node_of(client, "GET", f"/play/{game_id}"),
            node_of(client, "GET", f"/api/game/{game_id}/state"),
            # The operator console's look at the game (401 here: no admin token).
            node_of(client, "GET", f"/api/admin/games/{game_id}"),
            node_of(client, "GET", f"/api/admin/games/{game_id}/snapshots"),
        }
        assert seen == {owner[game_id]}, f"{game_id} was answered by {seen}"
    # Every answer names its node, a game the node does not know (404 game_not_found) included.
    unknown = client.post(f"/api/game/{ids[0]}/join", json={"name": "Alice"})
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"]["code"] == "game_not_found"
    assert unknown.headers[NODE] == owner[ids[0]]
    spread = Counter(owner.values())
    assert len(spread) > 1, f"every game on one node: {spread}"


def test_requests_of_no_game_go_to_any_healthy_node(cluster: Cluster, client: httpx.Client) -> None:
    health = [client.get("/healthz") for _ in range(9)]
    assert all(reply.status_code == 200 for reply in health), [r.text for r in health]
    # Round robin over the nodes, not a hash of a constant key: each node answers some.
    assert {reply.headers[NODE] for reply in health} == set(NAMES)
    assert {reply.json()["node"] for reply in health} == set(NAMES)
    assert {node_of(client, "GET", "/") for _ in range(6)} == set(NAMES)
    # /metrics is one node's, and open to loopback callers: the proxy refuses it itself.
    metrics = client.get("/metrics")
    assert metrics.status_code == 404
    assert NODE not in metrics.headers
    # The client's address reaches the node in X-Forwarded-For; the node answers as itself.
    assert "option forwardfor" in cluster.config


def test_a_websocket_through_the_proxy_reaches_its_games_node(cluster: Cluster) -> None:
    api = Api(cluster.url)
    try:
        # A game is created on any node; the one whose id hashes to the node that created it
        # (about one in three) can be played through the proxy, each node having its own file.
        for _ in range(20):
            created = api.create_game(**TABLE)
            body = created.ok(201)
            creator = created.headers[NODE]
            probe = api.request("GET", f"/api/game/{body['gameId']}/state")
            if probe.headers[NODE] == creator:
                break
        else:
            pytest.fail("no game of 20 hashed to the node that created it")
        table = Table(api, body["gameId"], body)
        alice = table.join("Alice")
        client, welcome = open_ws(cluster.url, table.game_id, Resume.of(alice))
        try:
            assert client.upgrade_headers[NODE] == creator
            assert welcome["seq"] >= 0
            client.round_trip(1)  # both ways through the tunnel
        finally:
            client.close()
    finally:
        api.close()


def test_a_killed_nodes_games_are_answered_by_another_node_at_once(
    cluster: Cluster, client: httpx.Client
) -> None:
    ids = game_ids()
    before = owners(client, ids)
    victim = Counter(before.values()).most_common(1)[0][0]
    theirs = [game_id for game_id, node in before.items() if node == victim]
    others = [game_id for game_id in ids if game_id not in theirs]

    cluster.nodes[victim].kill9()
    killed_at = time.monotonic()
    # The very first requests find the node dead and are retried on another (redispatch): each
    # is answered by a live node, none by the proxy's 503.
    first = owners(client, theirs)
    took = time.monotonic() - killed_at
    assert victim not in first.values()
    assert took < FAILOVER_BUDGET_S, f"{len(theirs)} games answered in {took:.2f} s"

    # Once the health checks have taken the node out (2 x 250 ms), its games stay on one node
    # each, and no other game moved: consistent hashing moves the dead node's games alone.
    time.sleep(4 * 0.25)
    after = owners(client, ids)
    assert owners(client, ids) == after
    assert victim not in after.values()
    assert {game_id: after[game_id] for game_id in others} == {
        game_id: before[game_id] for game_id in others
    }


# --- draining ---------------------------------------------------------------------------------


class StandIn(ThreadingHTTPServer):
    """A stand-in node in this process: answers every GET 200 (`{}`) naming itself, and /healthz
    503 once `draining` (as a node does while it shuts down)."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.name = name
        self.draining = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: HAProxy resets a health check's connection once it has read the status line,
        which the standard library would print as a traceback."""


class StandInHandler(BaseHTTPRequestHandler):
    server: StandIn

    def do_GET(self) -> None:
        status = 503 if self.path == "/healthz" and self.server.draining else 200
        body = b"{}"
        self.send_response(status)
        self.send_header(NODE, self.server.name)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stand_ins(count: int) -> Iterator[list[StandIn]]:
    servers = [StandIn(f"s{i}") for i in range(1, count + 1)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_a_draining_node_leaves_rotation_within_half_a_second(tmp_path: Path) -> None:
    with stand_ins(3) as servers:
        proxy, _ = start_proxy(tmp_path, [server.url for server in servers])
        try:
            proxy.wait_ready()
            with httpx.Client(base_url=proxy.url, timeout=5.0) as client:
                names = {server.name for server in servers}
                ids = game_ids()
                before = {
                    game_id: client.get(f"/api/game/{game_id}/state").headers[NODE]
                    for game_id in ids
                }
                assert set(before.values()) <= names
                draining = next(s for s in servers if s.name in before.values())
                theirs = [game_id for game_id, node in before.items() if node == draining.name]

                draining.draining = True
                since = time.monotonic()
                while client.get(f"/api/game/{theirs[0]}/state").headers[NODE] == draining.name:
                    assert time.monotonic() - since < 2.0, "the draining node is still in rotation"
                    time.sleep(0.02)
                took = time.monotonic() - since
                # Two failed checks 250 ms apart; a little more for the check in flight.
                assert took < 1.0, f"the draining node left rotation after {took:.2f} s"
                assert all(
                    client.get(f"/api/game/{game_id}/state").headers[NODE] != draining.name
                    for game_id in theirs
                )
                assert {client.get("/healthz").headers[NODE] for _ in range(6)} == (
                    names - {draining.name}
                )
        finally:
            proxy.cleanup()
