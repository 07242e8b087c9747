"""The WebSocket channel on one running server: who holds a seat (one token, two sockets; a newer
connection supersedes an older one), the heartbeat (a silent client is dropped, a live one is
not), fresh tokens pushed to a connected client, and SIGTERM closing every socket with 1012."""

from __future__ import annotations

from e2e.support.poker import without_presence
from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, WsClient, open_ws
from rejoin_server.serve import GRACEFUL_SHUTDOWN_S as GRACE_S
from rejoin_testkit.api import Api, parse_utc
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}
# The heartbeat test's server: pings five times a second, drops a client silent for a second.
PING_MS = 200
IDLE_MS = 1000


def test_one_token_on_two_sockets_at_once_seats_exactly_one(
    server: ServerProcess, api: Api
) -> None:
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    # Two clients (two tabs) holding the same token, each with its own clientId.
    first = WsClient(server.url, table.game_id, Resume.of(alice))
    second = WsClient(server.url, table.game_id, Resume.of(alice))
    # Both hellos are on the wire before either is answered: a race for the seat.
    first.hello(last_seq=0)
    second.hello(last_seq=0)
    answers = {}
    for client in (first, second):
        answers[id(client)] = client.until(
            lambda m: m.get("type") in ("welcome", "error"), "welcome or error", errors_fail=False
        )
    kinds = sorted(answer["type"] for answer in answers.values())
    assert kinds == ["error", "welcome"], answers
    winner, loser = (first, second) if answers[id(first)]["type"] == "welcome" else (second, first)
    refusal = answers[id(loser)]
    assert refusal["code"] == "seat_conflict", refusal
    assert refusal["message"].strip()
    assert loser.closed() == (4409, "seat_conflict")
    assert loser.of_type("welcome") == []

    # The winner holds the seat: it is not closed, it answers, and events reach it.
    winner.round_trip(7)
    move = table.act_passively()
    winner.until_seq(move.ack["seq"])
    assert winner.resume is not None
    assert winner.resume.events == alice.events(after=0)
    assert not winner.is_closed
    winner.close()


def test_a_newer_connection_for_the_seat_supersedes_the_older(
    server: ServerProcess, api: Api
) -> None:
    table = Table.create(api, **TABLE)
    alice, _, _ = table.join_many(3)
    table.start()
    resume = Resume.of(alice, last_seq=0)
    old, welcome = open_ws(server.url, table.game_id, resume)
    assert welcome["playerId"] == alice.player_id
    assert welcome["seat"] == alice.seat
    assert welcome["resync"] is False
    assert resume.token != alice.token, "a welcome hands out a fresh token"

    # The same player again (another device), with the newest token: the old socket is closed.
    new, again = open_ws(server.url, table.game_id, resume)
    assert again["missedEvents"] == []
    assert again["seq"] == welcome["seq"]
    assert old.closed() == (4409, "superseded")
    assert old.of_type("error") == [], "superseded is a close, not an error"

    # The new socket is the one that lives on.
    move = table.act_passively()
    new.until_seq(move.ack["seq"])
    assert resume.events == alice.events(after=0)
    assert not new.is_closed
    new.close()


def test_a_silent_client_is_dropped_and_a_live_one_is_not(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, "--ping-interval", f"{PING_MS}ms", "--idle-timeout", f"{IDLE_MS}ms")
    api = Api(server.url)
    try:
        table = Table.create(api, **TABLE)
        alice, bob, carol = table.join_many(3)
        silent = WsClient(server.url, table.game_id, Resume.of(alice), answer_pings=False)
        silent.hello(last_seq=0)
        silent.welcome()
        answering, welcome = open_ws(server.url, table.game_id, Resume.of(bob), last_seq=0)
        pinging = WsClient(server.url, table.game_id, Resume.of(carol), answer_pings=False)
        pinging.hello(last_seq=0)
        pinging.welcome()

        # Go on until the server's own clock (the `t` of its pings) shows twice the idle timeout
        # gone since the welcome: `answering` answers every ping, `pinging` never answers but
        # sends a ping of its own each round; `silent` is not even read.
        since = welcome["serverTime"]
        server_now = since
        rounds = 0
        while server_now - since < 2 * IDLE_MS:
            rounds += 1
            pinging.round_trip(rounds)
            ping = answering.expect("ping")
            server_now = ping["t"]
        assert len(answering.of_type("ping")) >= 2 * IDLE_MS // PING_MS

        assert silent.closed() == (4408, "heartbeat timeout")
        assert silent.of_type("ping"), "the server pings before it gives up"
        assert silent.of_type("pong") == []
        # Both live clients are still open and still served.
        for client, t in ((answering, 1001), (pinging, 1002)):
            client.round_trip(t)
            assert not client.is_closed
        # A dropped client resumes like any other (4408 is not fatal), with its newest token.
        assert silent.resume is not None
        again = WsClient(server.url, table.game_id, silent.resume)
        again.hello()
        assert again.welcome()["resync"] is False
        for client in (answering, pinging, again):
            client.close()
    finally:
        api.close()


def test_sigterm_closes_every_socket_with_1012_and_exits_0(server: ServerProcess, api: Api) -> None:
    table = Table.create(api, **TABLE)
    players = table.join_many(3)
    table.start()
    table.act_passively()
    clients = [open_ws(server.url, table.game_id, Resume.of(p, last_seq=0))[0] for p in players]
    seq = table.view()["seq"]
    before = {p.player_id: without_presence(p.view()) for p in players}
    for client in clients:
        client.until_seq(seq)

    # Well under the grace period uvicorn would wait for sockets that stay open.
    assert server.terminate(timeout=GRACE_S / 2) == 0, server.log_tail()
    for client in clients:
        assert client.closed() == (1012, "server restarting")

    # 1012 means "come back": after the restart each resumes with its newest token and last seq.
    server.restart()
    api.reset()
    for player, client in zip(players, clients, strict=True):
        resume = client.resume
        assert resume is not None
        again, welcome = open_ws(server.url, table.game_id, resume)
        assert welcome["resync"] is False
        assert welcome["missedEvents"] == []
        assert without_presence(welcome["gameState"]) == before[player.player_id]
        assert resume.events == player.events(after=0)
        again.close()


def test_a_connected_client_is_never_stranded_with_an_expired_token(
    spawn: Spawn, db_url: str
) -> None:
    """With 2 s tokens, a client that stays connected past its welcome token's expiry has been
    pushed fresh ones (`token`), and the newest resumes its seat while the first one is dead."""
    server = spawn(db_url, "--token-ttl", "2s", "--ping-interval", "100ms", "--idle-timeout", "2s")
    api = Api(server.url)
    try:
        table = Table.create(api, **TABLE)
        alice, _, _ = table.join_many(3)
        resume = Resume.of(alice, last_seq=0)
        client, welcome = open_ws(server.url, table.game_id, resume)
        first_token = welcome["token"]["token"]
        first_expiry = epoch_ms(welcome["token"]["expiresAt"])
        # Live (answering pings) until the server's clock is past the welcome token's expiry.
        client.until(lambda m: m.get("type") == "ping" and m["t"] > first_expiry, "expiry")
        pushed = client.of_type("token")
        assert pushed, "no fresh token pushed before the first one expired"
        expiries = [epoch_ms(m["expiresAt"]) for m in pushed]
        assert expiries == sorted(expiries)
        assert expiries[0] > first_expiry
        assert resume.token == pushed[-1]["token"] != first_token

        # The newest token resumes the seat (superseding the live socket) ...
        again, resumed = open_ws(server.url, table.game_id, resume)
        assert resumed["resync"] is False
        assert client.closed() == (4409, "superseded")
        # ... and the first one, used by anyone, is refused.
        stale = WsClient(server.url, table.game_id, Resume(alice.player_id, first_token))
        stale.hello(last_seq=0)
        refusal = stale.until(lambda m: m.get("type") == "error", "error", errors_fail=False)
        assert refusal["code"] in ("token_expired", "token_reused"), refusal
        assert stale.closed() == (4401, refusal["code"])
        again.close()
    finally:
        api.close()


def epoch_ms(value: str) -> int:
    return int(parse_utc(value).timestamp() * 1000)
