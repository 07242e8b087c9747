"""Degraded mode: the database goes away under a running server. Games go on in memory, acks say
`durable: false`, /healthz says `degraded`; when the database is back the queue drains in order, and
a kill -9 afterwards shows the whole log was stored, gapless and without duplicates.

PostgreSQL only: it is the store that can be stopped and started under a server (a cluster of the
test's own, on its own port)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from e2e.support.databases import Rows
from e2e.support.pgcluster import ThrowawayPostgres
from e2e.support.poker import assert_gapless, chips_on_table
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Move, Table

TABLE = {"seats": 2, "actionTimeoutMs": 600_000, "autoNextHand": False}
DRAIN_TIMEOUT_S = 60.0


def health(api: Api) -> JsonObject:
    return api.healthz().ok(200)


def play_while_down(table: Table) -> list[Move]:
    """Finish the running hand, start another and act in it: all in memory only."""
    moves: list[Move] = []
    while table.view()["toAct"] is not None:
        moves.append(table.act_passively())
    start = table.start()
    assert start["success"] is True
    moves.append(table.act_passively())
    moves.append(table.act_passively())
    return moves


@pytest.mark.postgres
@pytest.mark.slow
def test_store_outage_degrades_then_drains_without_gap(
    spawn: Spawn,
    throwaway_postgres: ThrowawayPostgres,
    make_api: Callable[[ServerProcess], Api],
) -> None:
    server = spawn(throwaway_postgres.url)
    api = make_api(server)
    healthy = health(api)
    assert healthy["status"] == "ok", healthy
    assert healthy["pendingWrites"] == 0, healthy
    table = Table.create(api, **TABLE)
    table.join_many(2)
    table.start()
    chips = chips_on_table(table.view())
    first = table.act_passively()
    assert first.ack["durable"] is True

    throwaway_postgres.stop("immediate")
    moves = play_while_down(table)
    for move in moves:
        assert move.ack["durable"] is False, f"acked as durable while the store is down: {move}"
        assert move.ack["duplicate"] is False
    degraded = health(api)
    assert degraded["status"] == "degraded", degraded
    assert degraded["pendingWrites"] > 0, degraded
    # Reads go on from memory.
    assert chips_on_table(table.view()) == chips
    during = table.players[0].events(after=0)
    assert_gapless(during)

    throwaway_postgres.start()
    # On PostgreSQL the node answers 503 `rejoining` for a moment once the database is back: it
    # checks which games it still owns before it serves them again (docs/cluster.md).
    wait_for(
        lambda: (h := api.healthz().body)["status"] == "ok" and h["pendingWrites"] == 0,
        timeout=DRAIN_TIMEOUT_S,
        what="the write queue to drain after PostgreSQL came back",
        interval=0.1,
        detail=lambda: f"{health(api)}\n{server.log_tail()}",
    )
    again = table.act_passively()
    assert again.ack["durable"] is True
    logs = {p.player_id: p.events(after=0) for p in table.players}
    for log in logs.values():
        assert_gapless(log)
    assert logs[table.players[0].player_id][: len(during)] == during

    stored = Rows(throwaway_postgres.url).events(table.game_id)
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert len(stored) == len(logs[table.players[0].player_id])

    server.kill9()
    server.restart()
    api.reset()
    for player in table.players:
        assert player.events(after=0) == logs[player.player_id]
    assert chips_on_table(table.view()) == chips
    table.act_passively()
