"""A cluster of its own for a test: three `rejoin-server` nodes on one fresh PostgreSQL database
behind a real HAProxy configured by `rejoin-server proxy-config` (docs/cluster.md).

- `pg_cluster(tmp, pooled=False)`: the running `Cluster` (every process is killed when it
  ends, the database dropped); with `pooled`, the nodes' store goes through PgBouncer in
  transaction mode and only their coordination connections go direct. A missing PostgreSQL,
  HAProxy or PgBouncer fails the test; it never skips.
- `Cluster.owner_of(game_id)`: the node hosting a game, as PostgreSQL says (`games.owner`).
- `Cluster.proxy_has_down(name)`: HAProxy's health checks have taken that node out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from rejoin_testkit.api import Api
from rejoin_testkit.fixtures import postgres_database
from rejoin_testkit.haproxy import start_proxy
from rejoin_testkit.pgbouncer import pgbouncer
from rejoin_testkit.processes import ServerProcess

NAMES = ("n1", "n2", "n3")
ADMIN = "e2e-cluster-admin"


@dataclass
class Cluster:
    nodes: dict[str, ServerProcess]
    proxy: ServerProcess
    api: Api  # through the proxy, with the admin token
    database_url: str

    def owner_of(self, game_id: str) -> str:
        """The node hosting a game, as PostgreSQL says."""
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT owner FROM games WHERE game_id = %s", (game_id,)).fetchone()
        assert row is not None
        assert row[0] in self.nodes, f"game {game_id} is owned by {row[0]!r}"
        return str(row[0])

    def proxy_has_down(self, name: str) -> bool:
        """HAProxy's health checks have taken node `name` out (its last word on that node, in its
        log, is DOWN): from then on the proxy sends that node's games to the others by its hash
        ring. `proxy-config` names the servers node1, node2, … in the order of the nodes."""
        server = f"Server rejoin_games/node{list(self.nodes).index(name) + 1} is"
        log = self.proxy.log()
        return log.rfind(f"{server} DOWN") > log.rfind(f"{server} UP")


@contextmanager
def pg_cluster(tmp: Path, *, pooled: bool = False) -> Iterator[Cluster]:
    """Three nodes on a fresh database behind HAProxy; with `pooled`, their store goes through
    PgBouncer in transaction mode and only their coordination connections go direct."""
    with postgres_database(prefix="rejoin_cluster") as url, contextlib.ExitStack() as stack:
        store_url = stack.enter_context(pgbouncer(url)) if pooled else url
        direct = ["--cluster-database-url", url] if pooled else []
        nodes = {
            name: ServerProcess(
                tmp / f"{name}.log",
                database_url=store_url,
                admin_token=ADMIN,
                args=["--node-id", name, "--log-level", "warning", *direct],
            )
            for name in NAMES
        }
        started: list[ServerProcess] = []
        try:
            for node in nodes.values():  # one at a time: the first migrates the database
                started.append(node.start())
                node.wait_ready()
            proxy, _ = start_proxy(tmp, [node.url for node in nodes.values()])
            started.append(proxy)
            proxy.wait_ready()
            api = Api(proxy.url, ADMIN)
            try:
                yield Cluster(nodes, proxy, api, url)
            finally:
                api.close()
        finally:
            for process in started:
                process.cleanup()
