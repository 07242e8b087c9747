"""Reconnect tokens over HTTP: first use wins a race, a lost answer can be fetched again, a spent
token stays spent, and every kind of wrong token is refused with its own code."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api, Reply, parse_utc
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

RACERS = 20
TABLE = {"seats": 4, "actionTimeoutMs": 600_000, "autoNextHand": False}


def started_table(api: Api, players: int = 2) -> Table:
    table = Table.create(api, **TABLE)
    table.join_many(players)
    table.start()
    return table


def race(server: ServerProcess, game_id: str, player_id: str, token: str, seq: int) -> list[Reply]:
    """RACERS clients, each with its own connection and clientId, fire the same token at once."""
    barrier = threading.Barrier(RACERS)

    def attempt(index: int) -> Reply:
        client = Api(server.url)
        try:
            client.healthz()  # connected before the barrier, so the requests really overlap
            barrier.wait(timeout=30)
            return client.reconnect(
                game_id, player_id, token, last_seq=seq, client_id=f"racer-{index}"
            )
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return list(pool.map(attempt, range(RACERS)))


@pytest.mark.slow
def test_concurrent_reconnects_with_one_token_have_one_winner(
    server: ServerProcess, api: Api
) -> None:
    table = started_table(api)
    alice = table.players[0]
    seq = alice.view()["seq"]
    old = alice.token

    replies = race(server, table.game_id, alice.player_id, old, seq)
    winners = [i for i, r in enumerate(replies) if r.status == 200]
    assert len(winners) == 1, "\n".join(r.describe() for r in replies)
    for reply in replies:
        if reply.status != 200:
            reply.error("seat_conflict")
    won = replies[winners[0]].ok(200)
    winner = f"racer-{winners[0]}"
    loser = f"racer-{(winners[0] + 1) % RACERS}"
    assert won["connectionToken"]["playerId"] == alice.player_id
    assert won["seq"] == seq

    # The winner's answer got lost: the same client with the same token gets it again.
    retry = api.reconnect(table.game_id, alice.player_id, old, last_seq=seq, client_id=winner)
    assert retry.ok(200)["connectionToken"]["playerId"] == alice.player_id
    assert retry.body["seq"] == won["seq"]
    # Another client with that token is still in conflict with the winner.
    api.reconnect(table.game_id, alice.player_id, old, client_id=loser).error("seat_conflict")

    # Once the winner has used its new token, the old one is spent for everybody.
    fresh = won["connectionToken"]["token"]
    api.reconnect(table.game_id, alice.player_id, fresh, last_seq=seq, client_id=winner).ok(200)
    for client_id in (winner, loser, None):
        reply = api.reconnect(table.game_id, alice.player_id, old, client_id=client_id)
        reply.error("token_reused")


def test_garbled_and_forged_tokens_are_invalid(api: Api) -> None:
    table = started_table(api)
    alice = table.players[0]
    real = alice.token
    flipped = real[:-3] + ("A" if real[-3] != "A" else "B") + real[-2:]
    # itsdangerous: [.]payload.timestamp.signature; change one character inside the payload.
    payload = max(real.split("."), key=len)
    middle = len(payload) // 2
    changed = payload[:middle] + ("x" if payload[middle] != "x" else "y") + payload[middle + 1 :]
    retargeted = real.replace(payload, changed)
    forged = URLSafeTimedSerializer("not-the-server-key").dumps(
        {"g": table.game_id, "p": alice.player_id, "j": uuid.uuid4().hex}
    )
    for bad in ("garbage", "a.b.c", flipped, retargeted, forged, real + "x"):
        reply = api.reconnect(table.game_id, alice.player_id, bad, client_id="mallory")
        reply.error("token_invalid")
    # None of that spent the real token.
    alice.reconnect(last_seq=0).ok(200)


def test_expired_token(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, "--token-ttl", "1s")
    api = Api(server.url)
    try:
        table = Table.create(api, **TABLE)
        joined = api.join(table.game_id, "Alice").ok(201)
        alice = table.join("Bob")
        issued = api.connection_token(table.game_id, alice.session).ok(200)
        assert issued["playerId"] == alice.player_id
        expires = max(
            parse_utc(issued["expiresAt"], "expiresAt"),
            parse_utc(joined["connectionToken"]["expiresAt"], "expiresAt"),
        )
        assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 5
        # Nothing to poll for: a token's expiry is only visible by using it. Half a second past
        # the expiry the server announced, the token must be refused.
        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.5)
        reply = api.reconnect(table.game_id, alice.player_id, alice.token, client_id="late")
        reply.error("token_expired")
        api.reconnect(table.game_id, alice.player_id, issued["token"]).error("token_expired")
    finally:
        api.close()


def test_tokens_of_other_games_and_players_are_refused(api: Api) -> None:
    first = started_table(api, players=3)
    second = started_table(api)
    alice, bob, _ = first.players
    dora = second.players[0]
    # A token of another game, for a player seated here.
    api.reconnect(second.game_id, dora.player_id, alice.token).error("forbidden")
    # A player of another game, with their own token, knocking at this game.
    api.reconnect(second.game_id, alice.player_id, alice.token).error(
        "forbidden", "player_not_in_game"
    )
    # A token of this game but another seated player's seat.
    api.reconnect(first.game_id, bob.player_id, alice.token).error("forbidden")
    # A player id that holds no seat here, with someone else's token: the token's owner is
    # checked first, so a token cannot be used to probe who is seated.
    nobody = uuid.uuid4().hex[:12]
    api.reconnect(first.game_id, nobody, alice.token).error("forbidden")
    # An unknown game (the token is for another game, so either answer says what is wrong).
    api.reconnect("nosuchgame00", alice.player_id, alice.token).error("game_not_found", "forbidden")
    # None of that spent the real tokens.
    alice.reconnect(last_seq=0).ok(200)
    dora.reconnect(last_seq=0).ok(200)


def test_connection_token_endpoint(api: Api) -> None:
    table = started_table(api)
    alice = table.players[0]
    issued = api.connection_token(table.game_id, alice.session).ok(200)
    assert issued["playerId"] == alice.player_id
    assert parse_utc(issued["expiresAt"], "expiresAt") > datetime.now(UTC)
    body = alice.reconnect(last_seq=0, token=issued["token"]).ok(200)
    assert body["connectionToken"]["playerId"] == alice.player_id
    api.connection_token(table.game_id, None).error("unauthorized")
    api.connection_token(table.game_id, "not-a-session").error("unauthorized")


@pytest.mark.slow
def test_reconnect_to_a_completed_game(spawn: Spawn, db_url: str) -> None:
    server = spawn(db_url, "--abandon-after", "1s", "--cleanup-interval", "1s")
    api = Api(server.url)
    try:
        table = started_table(api)
        alice = table.players[0]
        table.wait_for_status(
            "completed",
            timeout=15,
            what="the cleanup job to complete the abandoned game",
            detail=server.log_tail,
        )
        error = alice.reconnect(last_seq=0).error("game_completed")
        assert error["message"]
    finally:
        api.close()
