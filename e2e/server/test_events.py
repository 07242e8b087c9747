"""The events endpoint: JSON and SSE give the same log; SSE honours `after`, `Last-Event-ID` and
`?session=`, and delivers events live as they happen; missed events on reconnect match it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from e2e.support.poker import assert_gapless
from e2e.support.spawn import Spawn
from rejoin_server.serve import GRACEFUL_SHUTDOWN_S as GRACE_S
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}


def test_sse_and_json_agree(api: Api) -> None:
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    table.act_passively()
    body = api.events(table.game_id, alice.session).ok(200)
    log = body["events"]
    assert_gapless(log)
    assert body["seq"] == log[-1]["seq"]
    seq = body["seq"]

    stream = api.sse(table.game_id, alice.session, after=0, until_seq=seq)
    assert stream.status == 200
    assert stream.content_type.startswith("text/event-stream")
    assert stream.events == log
    assert [m.id for m in stream.messages] == [str(e["seq"]) for e in log]
    assert [m.event for m in stream.messages] == [e["kind"] for e in log]

    # `after`, `Last-Event-ID` and the session in the query string.
    later = api.sse(table.game_id, alice.session, after=3, until_seq=seq)
    assert later.events == log[3:]
    resumed = api.sse(table.game_id, alice.session, last_event_id=4, until_seq=seq)
    assert resumed.events == log[4:]
    queried = api.sse(table.game_id, alice.session, after=5, until_seq=seq, session_in_query=True)
    assert queried.events == log[5:]
    assert api.events(table.game_id, alice.session, after=4).ok(200)["events"] == log[4:]

    refused = api.sse(table.game_id, None, after=0, until_seq=seq)
    assert refused.status == 401, refused


def test_sse_delivers_live_events(api: Api) -> None:
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    seq = alice.view()["seq"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Listening from the current seq: the next event can only come live.
        future = pool.submit(
            api.sse, table.game_id, alice.session, after=seq, until_seq=seq + 1, timeout=15
        )
        move = table.act_passively()
        stream = future.result(timeout=30)
    assert stream.status == 200
    assert stream.events[0]["seq"] == seq + 1
    assert stream.events[0]["seq"] == move.ack["seq"]
    assert stream.events[0]["kind"] == "action"


def test_reconnect_without_last_seq_or_far_behind_is_a_resync(api: Api) -> None:
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    body = alice.reconnect().ok(200)  # no lastSeq
    assert body["resync"] is True
    assert body["missedEvents"] == []
    assert body["gameState"]["seq"] == body["seq"]
    seq = body["seq"]
    caught_up = alice.reconnect(last_seq=seq).ok(200)
    assert caught_up["resync"] is False
    assert caught_up["missedEvents"] == []
    partial = alice.reconnect(last_seq=seq - 2).ok(200)
    assert partial["resync"] is False
    assert partial["missedEvents"] == alice.events(after=seq - 2)


def test_more_missed_events_than_the_replay_limit_is_a_resync(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, "--replay-limit", "5")
    api = Api(server.url)
    try:
        table = Table.create(api, **TABLE)
        alice, _, _ = table.join_many(3)
        table.start()
        for _ in range(3):
            table.act_passively()
        seq = alice.view()["seq"]
        assert seq > 10
        far = alice.reconnect(last_seq=seq - 10).ok(200)
        assert far["resync"] is True
        assert far["missedEvents"] == []
        assert far["gameState"]["seq"] == seq
        near = alice.reconnect(last_seq=seq - 5).ok(200)
        assert near["resync"] is False
        assert [e["seq"] for e in near["missedEvents"]] == list(range(seq - 4, seq + 1))
    finally:
        api.close()


def test_sigterm_ends_open_event_streams_at_once(server: ServerProcess, api: Api) -> None:
    """uvicorn waits for open connections before shutting down; an event stream never ends by
    itself, so SIGTERM must end it, or every shutdown would take the whole grace period."""
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    seq = alice.view()["seq"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(
            api.sse, table.game_id, alice.session, after=seq, until_seq=seq + 1000, timeout=30
        )
        wait_for(
            lambda: seat_of(alice.view(), alice.player_id)["connected"] is True,
            timeout=10,
            what="the stream to show alice as connected",
        )
        # Well under the 10 s grace period uvicorn would otherwise wait for the stream.
        assert server.terminate(timeout=GRACE_S / 2) == 0, server.log_tail()
        stream = future.result(timeout=5)
    assert stream.status == 200
    assert stream.events == []


def seat_of(view: JsonObject, player_id: str) -> JsonObject:
    seats: list[JsonObject] = view["seats"]
    return next(seat for seat in seats if seat["playerId"] == player_id)
