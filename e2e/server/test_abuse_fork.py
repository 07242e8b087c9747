"""The abuse suite, history (issue 12): no silent fork after a crash in degraded mode.

Reproduced on the old server: while PostgreSQL was down a client saw events up to seq 58 (only 22
stored); the server was killed and restarted, the game went on from 22 to 62, and the client
resumed with `lastSeq: 58`: `resync: false` and events 59-62, keeping events the server's
history no longer has (its own hole cards among them). Now the client sends the epoch of its
welcome back with its last seq, and the server answers a history it lost with a resync.

On a PostgreSQL cluster of the test's own (it is stopped under the server), in strict durability
(events outrun the store only while it is down) and relaxed (they always may).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from e2e.support.pgcluster import ThrowawayPostgres
from e2e.support.poker import assert_gapless
from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, WsClient
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


def healthy(api: Api) -> bool:
    body = api.healthz().ok(200)
    return bool(body["status"] == "ok" and body["pendingWrites"] == 0)


def serving_degraded(api: Api, player: Player) -> bool:
    """The node knows its database is gone and serves the game from memory. Until then (the
    moment between its coordination connection dropping and its first failed reconnect) it
    answers 503 `storage_unavailable`, "try again in a moment", as a client would."""
    down = api.healthz().ok(200)["status"] == "degraded"
    return down and player.state_reply().status == 200


def resume(base_url: str, table: Table, state: Resume) -> tuple[WsClient, dict[str, Any]]:
    client = WsClient(base_url, table.game_id, state)
    client.hello()
    return client, client.welcome()


def act_until(table: Table, seq: int) -> None:
    """Play passively (over HTTP) until the game is past `seq`, dealing new hands as needed."""
    while table.view()["seq"] <= seq:
        if table.view()["toAct"] is None:
            table.start()
        else:
            table.act_passively()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("durability", ["strict", "relaxed"])
def test_a_client_of_a_history_lost_in_a_crash_resyncs(
    spawn: Spawn,
    throwaway_postgres: ThrowawayPostgres,
    make_api: Callable[[ServerProcess], Api],
    durability: str,
) -> None:
    server = spawn(throwaway_postgres.url, "--durability", durability)
    api = make_api(server)
    table = Table.create(api, **TABLE)
    ann, bob, cy = table.join_many(3)
    table.start()
    table.act_passively()

    # Two players on WebSockets: `seer` will see events that are never stored; `stayer` stops
    # reading while everything is still stored.
    seer, stayer = Resume.of(ann, last_seq=0), Resume.of(bob, last_seq=0)
    seer_client, _ = resume(server.url, table, seer)
    stayer_client, _ = resume(server.url, table, stayer)
    wait_for(lambda: healthy(api), timeout=30, what="every write stored")
    stored = int(table.view()["seq"])
    stayer_client.until_seq(stored)
    stayer_client.close()

    throwaway_postgres.stop("immediate")
    wait_for(lambda: serving_degraded(api, ann) or None, timeout=30, what="serving degraded")
    moves = [table.act_passively() for _ in range(3)]
    assert all(move.ack["durable"] is False for move in moves), moves
    seen = int(table.view()["seq"])
    assert seen > stored
    seer_client.until_seq(seen)
    lost_epoch = seer.epoch
    assert lost_epoch is not None
    assert [e["seq"] for e in seer.events] == list(range(1, seen + 1))

    server.kill9()  # the events not stored die with the process
    seer_client.close()
    throwaway_postgres.start()
    server.restart()
    api.reset()
    assert table.view()["seq"] == stored  # the game is back at what was stored …
    act_until(table, seen + 1)  # … and goes on past the seer's seq, with other events
    now = int(table.view()["seq"])

    # The seer's history is not the server's: a resync with the server's state, nothing replayed.
    client, welcome = resume(server.url, table, seer)
    assert welcome["resync"] is True, welcome
    assert welcome["missedEvents"] == []
    assert welcome["seq"] == now
    assert welcome["gameState"] == ann.view()  # ann holds the welcome's session token
    client.close()

    # The stayer saw only stored events: it resumes as before, every event once.
    client, welcome = resume(server.url, table, stayer)
    assert welcome["resync"] is False, welcome
    assert_gapless(stayer.events)
    assert stayer.events == bob.events(after=0)
    client.close()

    # Over HTTP the same, with `lastEpoch` beside `lastSeq`.
    lost = cy.reconnect(last_seq=seen, last_epoch=lost_epoch).ok(200)
    assert (lost["resync"], lost["missedEvents"]) == (True, [])
    kept = cy.reconnect(last_seq=stored, last_epoch=lost_epoch).ok(200)
    assert kept["resync"] is False
    assert [e["seq"] for e in kept["missedEvents"]] == list(range(stored + 1, now + 1))
    assert "Traceback" not in server.log()
