"""kill -9 under live clients: six players on six WebSockets resume exactly (every event once, the
same state as the server's), an action in flight at the kill takes effect once when resent, and an
SSE stream resumes through `Last-Event-ID`."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from e2e.support.poker import assert_gapless, seqs, without_presence
from e2e.support.ws import Resume, WsClient, open_ws
from rejoin_testkit.api import Api, JsonObject, SseMessage, sse_messages
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

TABLE = {"actionTimeoutMs": 600_000, "autoNextHand": False}
# What a client sees when the server vanishes without a close frame.
ABNORMAL_CLOSURE = 1006


class WsTable:
    """A table whose players play over WebSocket, each on a socket of their own (or none while
    they are away), each client keeping its newest token, last seq and every event it got."""

    def __init__(self, server: ServerProcess, table: Table) -> None:
        self.server = server
        self.table = table
        self.resumes = {p.player_id: Resume.of(p, last_seq=0) for p in table.players}
        self.sockets: dict[str, WsClient] = {}

    def connect(self, player: Player) -> JsonObject:
        """Open the player's socket from what their client kept; returns the welcome."""
        assert player.player_id not in self.sockets
        client, welcome = open_ws(
            self.server.url, self.table.game_id, self.resumes[player.player_id]
        )
        self.sockets[player.player_id] = client
        return welcome

    def drop(self, player: Player) -> None:
        """The player's client hangs up (whatever was in flight to it is lost to it)."""
        self.sockets.pop(player.player_id).close()

    def act(self, *preferred: str, catch_up: bool = True) -> tuple[Player, JsonObject]:
        """The player to act sends the first legal of `preferred` over their socket; returns them
        and the ack. `catch_up`: every open socket then reads up to the ack's seq."""
        player = self.table.to_act()
        assert player is not None, f"nobody is to act: {self.table.view()}"
        legal = {a["type"] for a in player.view()["you"]["legalActions"]}
        type_ = next((t for t in preferred if t in legal), None)
        assert type_ is not None, f"none of {preferred} is legal: {sorted(legal)}"
        client = self.sockets[player.player_id]
        ack = client.ack(client.action(type_))
        assert ack["duplicate"] is False
        assert ack["durable"] is True
        if catch_up:
            self.catch_up(ack["seq"])
        return player, ack

    def act_passively(self, catch_up: bool = True) -> tuple[Player, JsonObject]:
        return self.act("check", "call", "fold", catch_up=catch_up)

    def to_act_is_connected(self) -> bool:
        player = self.table.to_act()
        return player is not None and player.player_id in self.sockets

    def catch_up(self, seq: int) -> None:
        for client in self.sockets.values():
            client.until_seq(seq)


def resume_checked(ws: WsTable, player: Player) -> JsonObject:
    """The player's client connects again with its newest token and last seq; the welcome is
    checked against the server's own answers for that player (exactly the events after that seq
    in their visibility, and their view) and returned."""
    resume = ws.resumes[player.player_id]
    last_seq, old_token = resume.last_seq, resume.token
    assert last_seq is not None
    welcome = ws.connect(player)
    assert welcome["playerId"] == player.player_id
    assert welcome["seat"] == player.seat
    assert welcome["resync"] is False
    assert welcome["missedEvents"] == player.events(after=last_seq)
    assert welcome["seq"] == player.view()["seq"]
    assert without_presence(welcome["gameState"]) == without_presence(player.view())
    assert welcome["token"]["token"] != old_token, "each use of a token hands out a fresh one"
    assert resume.token == welcome["token"]["token"]
    return welcome


@pytest.mark.slow
def test_kill9_mid_round_six_websocket_players_resume_exactly(
    server: ServerProcess, api: Api
) -> None:
    table = Table.create(api, seats=6, **TABLE)
    players = table.join_many(6)
    ws = WsTable(server, table)
    for player in players:
        welcome = ws.connect(player)
        assert welcome["missedEvents"] == player.events(after=0)
    seq = table.start()["seq"]
    ws.catch_up(seq)

    # Preflop: the first two to act call, then hang up; the others play on without them.
    away = [ws.act_passively()[0] for _ in range(2)]
    for player in away:
        ws.drop(player)
    while ws.to_act_is_connected():
        ws.act_passively()
    view = table.view()
    # The blinds checked the flop; the first player away is to act.
    assert view["phase"] == "flop", view
    assert view["toAct"] == away[0].seat, view

    # The first one comes back (missing the end of preflop and the flop) and checks.
    back, still_away = away
    welcome = resume_checked(ws, back)
    assert "street" in [e["kind"] for e in welcome["missedEvents"]]
    # Mid-round: the second one is to act, still away; the others have not read the last check.
    _, ack = ws.act_passively(catch_up=False)
    seq = ack["seq"]
    assert table.view()["toAct"] == still_away.seat
    before = {p.player_id: without_presence(p.view()) for p in players}

    server.kill9()
    for client in ws.sockets.values():
        # What reached a client before the kill is its to keep; then the socket is dead.
        assert client.closed()[0] == ABNORMAL_CLOSURE
    ws.sockets.clear()
    server.restart()
    api.reset()

    welcomes = {p.player_id: resume_checked(ws, p) for p in players}
    for player in players:
        assert welcomes[player.player_id]["seq"] == seq
        assert without_presence(welcomes[player.player_id]["gameState"]) == before[player.player_id]
    missed = welcomes[still_away.player_id]["missedEvents"]
    assert "street" in [e["kind"] for e in missed], "the player away since preflop missed the flop"
    ws.catch_up(seq)

    # The hand plays on to its end over the new sockets.
    while table.view()["toAct"] is not None:
        ws.act_passively()
    final = table.view()
    assert final["phase"] == "hand_over", final
    ws.catch_up(final["seq"])
    for player in players:
        # Every event once, none lost, in order, over three processes' worth of connections.
        events = ws.resumes[player.player_id].events
        assert_gapless(events)
        assert events == player.events(after=0)
        assert events[-1]["kind"] == "hand_ended"
        assert seqs(events)[-1] == final["seq"]
    for client in ws.sockets.values():
        client.close()


def test_an_action_in_flight_at_a_kill_takes_effect_once(server: ServerProcess, api: Api) -> None:
    table = Table.create(api, seats=3, **TABLE)
    table.join_many(3)
    table.start()

    # Sent, then the server is killed at once: the ack may or may not have been on its way.
    actor = table.to_act()
    assert actor is not None
    resume = Resume.of(actor, last_seq=0)
    client, welcome = open_ws(server.url, table.game_id, resume)
    seq_before = welcome["seq"]
    action_id = client.action("call")
    server.kill9()
    client.closed()
    acked = [m for m in client.of_type("ack") if m["actionId"] == action_id]
    server.restart()
    api.reset()

    client, welcome = open_ws(server.url, table.game_id, resume)
    committed = welcome["seq"] > seq_before
    if acked:
        assert committed, "an acknowledged action must survive kill -9"
    client.action("call", action_id=action_id)
    ack = client.ack(action_id)
    # Either the first send was stored (and this is its answer again) or it is applied now.
    assert ack["duplicate"] is committed, (acked, welcome["seq"], seq_before, ack)
    if committed:
        assert ack["seq"] == welcome["seq"]
    client.until_seq(ack["seq"])
    assert table.view()["seq"] == ack["seq"]
    log = actor.events(after=0)
    actions = [e for e in log if e["kind"] == "action" and e["data"]["seat"] == actor.seat]
    assert [(e["seq"], e["data"]["type"]) for e in actions] == [(ack["seq"], "call")]
    assert resume.events == log
    client.close()

    # Acknowledged before the kill: resent after it (over WebSocket, then over HTTP), it is the
    # same action, answered as a duplicate with its seq, and the log does not grow.
    actor = table.to_act()
    assert actor is not None
    resume = Resume.of(actor, last_seq=0)
    client, _ = open_ws(server.url, table.game_id, resume)
    first = client.ack(client.action("call", action_id=action_id))
    assert first["duplicate"] is False, "actionIds are per player: another player's is new"
    server.kill9()
    client.closed()
    server.restart()
    api.reset()
    client, welcome = open_ws(server.url, table.game_id, resume)
    assert welcome["missedEvents"] == []
    again = client.ack(client.action("call", action_id=action_id))
    assert (again["seq"], again["duplicate"]) == (first["seq"], True)
    over_http = actor.act("call", action_id=action_id).ok(200)
    assert (over_http["seq"], over_http["duplicate"]) == (first["seq"], True)
    log = actor.events(after=0)
    assert seqs(log)[-1] == first["seq"]
    assert [e["seq"] for e in log if e["kind"] == "action" and e["data"]["seat"] == actor.seat] == [
        first["seq"]
    ]
    client.close()


def follow_sse(base_url: str, game_id: str, session: str, into: list[SseMessage]) -> int:
    """Read the player's event stream from the start into `into` until the connection breaks;
    returns the HTTP status."""
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {session}"}
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(60.0, connect=5.0)) as client:
        path = f"/api/game/{game_id}/events"
        with client.stream("GET", path, headers=headers, params={"after": 0}) as response:
            if response.status_code != 200:
                return response.status_code
            # The kill ends the stream mid-chunk: that is the point, not an error.
            with contextlib.suppress(httpx.TransportError):
                for message in sse_messages(response.iter_lines()):
                    if message.id is not None:  # an event, not a presence or token notice
                        into.append(message)  # one by one: the test reads `into` as it grows
            return response.status_code


def test_sse_resumes_with_last_event_id_across_a_kill(server: ServerProcess, api: Api) -> None:
    table = Table.create(api, seats=3, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    seen: list[SseMessage] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        stream = pool.submit(follow_sse, server.url, table.game_id, alice.session, seen)
        seq = alice.view()["seq"]
        wait_for(lambda: len(seen) >= seq, timeout=10, what=f"the stream to reach seq {seq}")
        # One event live, then the kill while the stream is open.
        move = table.act_passively()
        wait_for(
            lambda: len(seen) >= move.ack["seq"], timeout=10, what="the live event on the stream"
        )
        server.kill9()
        assert stream.result(timeout=30) == 200
    assert [m.id for m in seen] == [str(s) for s in range(1, len(seen) + 1)]
    last_id = len(seen)

    server.restart()
    api.reset()
    # Play on after the restart, so there is something to resume to.
    table.act_passively()
    end = table.act_passively().ack["seq"]
    resumed = api.sse(table.game_id, alice.session, last_event_id=last_id, until_seq=end)
    assert resumed.status == 200
    log = alice.events(after=0)
    assert resumed.events == log[last_id:]
    assert [m.id for m in resumed.messages] == [str(e["seq"]) for e in log[last_id:]]
    everything = [m.json() for m in seen] + resumed.events
    assert_gapless(everything)
    assert everything == log
