"""Nodes of a cluster on one real PostgreSQL, as real processes (docs/cluster.md): a game moves to
the node its players reach, a killed owner's games are taken over, a paused owner is fenced, a
drained or stopped node hands its games over, two nodes claiming at once end with one host, and a
node whose connection is cut stops serving until it has its games again. Each node is addressed
directly here; e2e/server/test_proxy_routing.py puts HAProxy in front."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from e2e.support.poker import assert_gapless
from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, open_ws
from rejoin_server.cluster.statements import CLEANUP_LOCK
from rejoin_testkit.api import Api, JsonObject, new_action_id
from rejoin_testkit.fixtures import postgres_database
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

pytestmark = pytest.mark.postgres

TABLE = {"actionTimeoutMs": 600_000, "autoNextHand": False}
SERVER_RESTARTING = 1012
# docs/cluster.md: the others wait this long for a silent node's heartbeat.
LEASE_S = 3.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database(prefix="rejoin_cluster") as url:
        yield url


@pytest.fixture
def nodes(
    spawn: Spawn, pg_url: str, make_api: Callable[[ServerProcess], Api]
) -> Callable[[int], list[tuple[ServerProcess, Api]]]:
    """Start `count` nodes n1, n2 … on one database (the first migrates it), with a client each."""

    def start(count: int) -> list[tuple[ServerProcess, Api]]:
        started = []
        for index in range(1, count + 1):
            server = spawn(pg_url, "--node-id", f"n{index}")
            started.append((server, make_api(server)))
        return started

    return start


def on(player: Player, api: Api) -> Player:
    """The same player, reaching another node."""
    return dataclasses.replace(player, api=api)


def reach(table: Table, api: Api) -> Table:
    """The same table, its players reaching another node."""
    return dataclasses.replace(
        table, api=api, players=[on(player, api) for player in table.players]
    )


def metric(api: Api, name: str) -> float:
    """One sample of the node's /metrics (0 when it has none yet)."""
    for line in api.request("GET", "/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


def node_of(reply_headers: object) -> str:
    return str(reply_headers["x-rejoin-node"])  # type: ignore[index]


def health(api: Api) -> JsonObject:
    """/healthz's body, whatever its status (a draining node answers 503)."""
    body: JsonObject = api.healthz().body
    return body


def hosted(api: Api) -> int:
    return int(health(api)["games"])


def events_of(player: Player) -> list[JsonObject]:
    body = player.api.events(player.game_id, player.session).ok(200)
    events: list[JsonObject] = body["events"]
    return events


def started_table(api: Api) -> Table:
    table = Table.create(api, **TABLE)
    table.join_many(3)
    table.start()
    return table


def test_a_game_moves_to_the_node_its_players_reach(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (_, api1), (_, api2) = nodes(2)
    table = started_table(api1)
    assert hosted(api1) == 1
    before = table.players[0].view()
    reply = on(table.players[0], api2).state_reply()
    assert node_of(reply.headers) == "n2"
    after = reply.ok(200)["gameState"]
    assert after["seq"] == before["seq"]
    assert after["seats"] == before["seats"]
    assert (hosted(api1), hosted(api2)) == (0, 1)
    # The game plays on at its new home, and its log is one history.
    there = reach(table, api2)
    there.act_first_of("call", "check")
    assert_gapless(events_of(there.players[0]))
    cluster = api2.request("GET", "/api/cluster", auth=api2.admin_token).ok(200)
    by_node = {n["node"]: n for n in cluster["nodes"]}
    assert by_node["n1"]["alive"]
    assert by_node["n2"]["alive"]
    assert (by_node["n1"]["games"], by_node["n2"]["games"]) == (0, 1)
    assert metric(api1, "rejoin_handovers_total") == 1
    assert metric(api2, "rejoin_takeovers_total") == 0


def test_the_games_of_a_killed_owner_are_taken_over_at_once(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (_, api2) = nodes(2)
    table = started_table(api1)
    table.act_first_of("call", "check")
    before = table.players[0].view()
    server1.kill9()
    killed = time.monotonic()
    view = on(table.players[0], api2).view()
    took = time.monotonic() - killed
    assert took < 2.0, f"the survivor took {took:.2f} s to serve the game"
    assert view == before
    there = reach(table, api2)
    there.act_first_of("call", "check")
    assert_gapless(events_of(there.players[0]))
    assert metric(api2, "rejoin_takeovers_total") == 1


def test_a_killed_owners_game_in_play_is_loaded_elsewhere_and_its_clock_fires_on_time(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (_, api2) = nodes(2)
    table = Table.create(api1, actionTimeoutMs=3000, autoNextHand=False)
    table.join_many(2)
    table.start()
    deadline = int(table.players[0].view()["actionDeadline"])
    server1.kill9()
    # Nobody comes back to the table: n2 finds the game in play with its owner gone and loads it.
    wait_for(lambda: hosted(api2) == 1 or None, timeout=5, what="n2 adopting the game")
    time.sleep(max(0.0, deadline / 1000 - time.time()) + 0.5)
    events = events_of(on(table.players[0], api2))
    fired = [e for e in events if e["kind"] == "timeout"]
    assert fired, [e["kind"] for e in events]
    late_ms = int(fired[0]["at"]) - deadline
    assert 0 <= late_ms < 1000, f"the clock fired {late_ms} ms after its deadline"
    assert_gapless(events)


def test_a_paused_owner_commits_nothing_once_another_node_took_the_game(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (server2, api2) = nodes(2)
    table = started_table(api1)
    mover = table.to_act()
    assert mover is not None
    watcher = next(p for p in table.players if p is not mover)
    resume = Resume.of(watcher)
    watching, welcome = open_ws(server1.url, table.game_id, resume, last_seq=None)
    before = int(welcome["seq"])
    resume.last_seq = before
    assert server1.pid is not None
    os.kill(server1.pid, signal.SIGSTOP)
    try:
        # An action sent to the paused owner waits in its socket until it runs again.
        answers: list[int] = []
        late = threading.Thread(
            target=lambda: answers.append(mover.act("call", action_id=new_action_id()).status)
        )
        late.start()
        time.sleep(0.3)
        # Another node takes the game once the paused one's lease is over, and plays on.
        wait_for(
            lambda: on(mover, api2).state_reply().status == 200 or None,
            timeout=LEASE_S + 5,
            what="the game taken over by n2",
        )
        on(mover, api2).act("fold").ok(200)
    finally:
        os.kill(server1.pid, signal.SIGCONT)
    late.join(timeout=15)
    # The old owner refused the action it got while paused: it could not know it still owned
    # the game (503, try again), or its write was fenced (409).
    assert len(answers) == 1
    assert answers[0] in (409, 503), answers
    events = events_of(on(table.players[0], api2))
    assert_gapless(events)
    taken_at = events[before]  # the first event after the pause: n2's, not the paused call
    assert (taken_at["kind"], taken_at["data"]["type"]) == ("action", "fold"), taken_at
    assert taken_at["data"]["seat"] == mover.seat
    # The old owner's socket sent nothing stale: it is closed with 1012, no event on the way.
    code, _ = watching.closed(timeout=10)
    assert code == SERVER_RESTARTING
    assert [m for m in watching.received if m["type"] == "event"] == []
    # Its client ends up on the owner, missing nothing.
    again, welcome = open_ws(server2.url, table.game_id, resume)
    assert [e["seq"] for e in welcome["missedEvents"]] == [e["seq"] for e in events[before:]]
    again.close()


def test_a_drained_node_hands_its_games_over_and_closes_their_sockets_with_1012(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (server2, api2) = nodes(2)
    table = started_table(api1)
    player = table.players[0]
    resume = Resume.of(player, last_seq=0)
    client, welcome = open_ws(server1.url, table.game_id, resume)
    seq = int(welcome["seq"])
    api1.request("POST", "/api/cluster/drain", auth=api1.admin_token).ok(202)
    code, _ = client.closed(timeout=5)
    assert code == SERVER_RESTARTING
    answer = api1.healthz()
    assert (answer.status, answer.body["status"]) == (503, "draining")
    assert hosted(api1) == 0
    resume.last_seq = seq
    client2, welcome2 = open_ws(server2.url, table.game_id, resume)
    assert welcome2["seq"] == seq
    assert welcome2["missedEvents"] == []
    client2.close()
    assert hosted(api2) == 1
    # A drained node takes no game, not even a new one.
    api1.create_game(**TABLE).error("storage_unavailable")


def test_sigterm_hands_every_game_over_and_exits_0(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (_, api2) = nodes(2)
    tables = [started_table(api1) for _ in range(3)]
    assert hosted(api1) == 3
    assert server1.terminate() == 0
    for table in tables:
        on(table.players[0], api2).view()
    cluster = api2.request("GET", "/api/cluster", auth=api2.admin_token).ok(200)
    n1 = next(n for n in cluster["nodes"] if n["node"] == "n1")
    assert (n1["alive"], n1["games"]) == (False, 0)
    # Handed over, not taken over: nobody had to wait for n1 to be declared dead.
    assert metric(api2, "rejoin_takeovers_total") == 0


def test_two_nodes_claiming_one_game_at_once_end_with_one_host(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]],
) -> None:
    (server1, api1), (_, api2), (_, api3) = nodes(3)
    tables = [started_table(api1) for _ in range(20)]
    server1.kill9()
    for table in tables:
        barrier = threading.Barrier(2)
        answers: list[JsonObject] = []

        def read(
            api: Api,
            table: Table = table,
            barrier: threading.Barrier = barrier,
            answers: list[JsonObject] = answers,
        ) -> None:
            barrier.wait()
            # The node that lost the race, or whose copy was handed over while the request
            # waited, answers "try again" (503 / 409 stale_state), as any client retries.
            for _ in range(10):
                reply = on(table.players[0], api).state_reply()
                if reply.status == 200:
                    answers.append(reply.ok(200)["gameState"])
                    return
                reply.error("storage_unavailable", "stale_state")
            raise AssertionError(f"never answered: {reply.describe()}")

        threads = [threading.Thread(target=read, args=(api,)) for api in (api2, api3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(answers) == 2
        assert answers[0]["seq"] == answers[1]["seq"]
    assert hosted(api2) + hosted(api3) == len(tables)
    for table in tables:
        assert_gapless(events_of(on(table.players[0], api2)))


def test_a_node_whose_connection_is_cut_stops_serving_until_it_has_its_games_again(
    nodes: Callable[[int], list[tuple[ServerProcess, Api]]], pg_url: str
) -> None:
    (_, api1), (_, api2) = nodes(2)
    table = started_table(api1)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT backend_pid FROM cluster_nodes WHERE node_id = 'n1'").fetchone()
        assert row is not None
        conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        # n1 rejoins with a new connection (a new backend) and serves again.
        wait_for(
            lambda: conn.execute(
                "SELECT backend_pid FROM cluster_nodes WHERE node_id = 'n1' AND backend_pid <> %s",
                (row[0],),
            ).fetchone(),
            timeout=10,
            what="n1 rejoining with a new connection",
        )
    wait_for(lambda: api1.healthz().status == 200 or None, timeout=10, what="n1 serving again")
    # Meanwhile the game may move: one history whichever node plays it.
    reach(table, api2).act_first_of("call", "check")
    wait_for(lambda: hosted(api1) == 0 or None, timeout=5, what="n1 no longer hosting it")
    view = on(table.players[0], api1).view()
    events = events_of(on(table.players[0], api1))
    assert_gapless(events)
    assert view["seq"] == events[-1]["seq"]
    assert metric(api1, "rejoin_fenced_writes_total") == 0


def test_the_cleanup_job_runs_on_one_node_at_a_time(
    spawn: Spawn, pg_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    servers = [spawn(pg_url, "--node-id", f"n{i}", "--cleanup-interval", "200ms") for i in (1, 2)]
    for server in servers:
        make_api(server)
    holder_sql = (
        "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid) "
        "WHERE l.locktype = 'advisory' AND l.granted "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s"
    )

    def holders() -> list[str]:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            rows = conn.execute(holder_sql, (CLEANUP_LOCK,)).fetchall()
        return sorted(str(row[0]) for row in rows)

    first = wait_for(lambda: holders() or None, timeout=10, what="a node taking the cleanup")
    assert len(first) == 1, first
    time.sleep(1.0)  # several rounds later, still the one node
    assert holders() == first
    leader = servers[0] if first == ["rejoin n1 work"] else servers[1]
    survivor = "rejoin n2 work" if leader is servers[0] else "rejoin n1 work"
    leader.kill9()
    wait_for(
        lambda: holders() == [survivor] or None, timeout=10, what="the survivor taking the cleanup"
    )


def test_a_second_node_with_a_live_nodes_id_refuses_to_start(
    spawn: Spawn, pg_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    first = spawn(pg_url, "--node-id", "n1")
    twin = spawn(pg_url, "--node-id", "n1", ready=False)
    wait_for(lambda: not twin.running or None, timeout=20, what="the twin exiting")
    assert twin.returncode != 0
    assert "node id 'n1' is in use by a live node" in twin.log_tail()
    assert make_api(first).healthz().status == 200  # the live node is untouched
