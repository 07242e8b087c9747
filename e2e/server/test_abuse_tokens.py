"""The abuse suite, tokens (issue 12), on real server processes.

- The session token was a 24-hour master key: with it anyone could mint unlimited reconnect
  tokens, and it kept working after the player reconnected. Now it is bound to the seat's current
  claim (a reconnect that wins the seat ends the older ones, also across a kill -9), it lives an
  hour (`--session-ttl`) and is renewed while connected, and `connection-token` hands out the
  seat's one live reconnect token.
- With `REJOIN_SECRET_KEYS` set, the key the server once generated and stored kept verifying: so
  whoever could read the database could forge tokens. Now it verifies for one token lifetime
  after the operator's keys arrive, or not at all with `--retire-stored-key`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import httpx
from itsdangerous import URLSafeTimedSerializer

from e2e.support.databases import Rows
from e2e.support.spawn import Spawn
from e2e.support.ws import Resume, WsClient
from rejoin_server.host.live import STREAMS_PER_PLAYER
from rejoin_testkit.api import Api, sse_messages
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table


def test_a_reconnect_ends_the_older_session_tokens_also_after_a_kill(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    table = Table.create(api, seats=2)
    ann, _ = table.join_many(2)
    stolen = ann.session
    reply = ann.reconnect(last_seq=0).ok(200)  # ann comes back: a new claim on the seat
    assert ann.session == reply["sessionToken"] != stolen
    api.state(table.game_id, stolen).error("token_reused")
    api.connection_token(table.game_id, stolen).error("token_reused")
    assert api.state(table.game_id, ann.session).ok(200)["seq"] == 2

    server.kill9()
    server.restart()
    api.reset()
    api.state(table.game_id, stolen).error("token_reused")
    assert api.state(table.game_id, ann.session).ok(200)["seq"] == 2
    claims = Rows(db_url).query(
        "SELECT player_id FROM seat_claims WHERE game_id = ?", [table.game_id]
    )
    assert sorted(player for (player,) in claims) == sorted(p.player_id for p in table.players)


def test_connection_token_hands_out_the_seats_one_live_token(
    server: ServerProcess, api: Api, db_url: str
) -> None:
    table = Table.create(api, seats=2)
    ann, _ = table.join_many(2)
    before = Rows(db_url).query(
        "SELECT count(*) FROM reconnect_tokens WHERE game_id = ?", [table.game_id]
    )[0][0]
    answers = [api.connection_token(table.game_id, ann.session).ok(200) for _ in range(10)]
    after = Rows(db_url).query(
        "SELECT count(*) FROM reconnect_tokens WHERE game_id = ?", [table.game_id]
    )[0][0]
    assert after == before == 2  # one per seat: nothing minted
    assert all(answer["sessionToken"] for answer in answers)
    # The token it hands out is the seat's: using it takes the seat, and the join's is spent.
    ann.reconnect(token=answers[-1]["token"], last_seq=0).ok(200)
    ann.reconnect(token=answers[0]["token"], last_seq=0, client_id="elsewhere").error(
        "seat_conflict", "token_reused"
    )


def test_session_tokens_expire_and_a_connected_client_is_sent_fresh_ones(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url, "--session-ttl", "4s", "--token-ttl", "1h", "--ping-interval", "200ms")
    api = make_api(server)
    table = Table.create(api, seats=2)
    ann, bob = table.join_many(2)
    state = Resume.of(ann, last_seq=0)
    client = WsClient(server.url, table.game_id, state)
    client.hello()
    client.welcome()
    welcomed = state.session
    assert welcomed is not None
    # Half the session token's life gone: the channel pushes a fresh one (and a reconnect token).
    pushed = client.until(lambda m: m["type"] == "token", "a pushed token", timeout=10)
    assert pushed["sessionToken"] != welcomed
    assert api.state(table.game_id, pushed["sessionToken"]).ok(200)
    # A session token not renewed expires: bob's, from his join, after 4 s.
    wait_for(
        lambda: api.state(table.game_id, bob.session).status == 401,
        timeout=15,
        what="bob's session token to expire",
    )
    api.state(table.game_id, bob.session).error("unauthorized")
    assert api.state(table.game_id, pushed["sessionToken"]).ok(200)
    client.close()


def stored_key(db_url: str) -> str:
    ((secret,),) = Rows(db_url).query("SELECT secret FROM signing_keys")
    return str(secret)


def forged_session(secret: str, game_id: str, player_id: str, claim: str) -> str:
    """What anyone who can read the database could sign with the key stored there."""
    signer = URLSafeTimedSerializer([secret], salt="rejoin.session")
    return str(signer.dumps({"g": game_id, "p": player_id, "c": claim}))


def test_the_stored_key_stops_verifying_once_the_operator_gives_keys(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    server = spawn(db_url)  # no REJOIN_SECRET_KEYS: it generates a key and stores it
    api = make_api(server)
    table = Table.create(api, seats=2)
    ann, _ = table.join_many(2)
    secret = stored_key(db_url)
    claim = URLSafeTimedSerializer([secret], salt="rejoin.session").loads(ann.session)["c"]
    server.terminate()

    def forgery() -> str:
        return forged_session(secret, table.game_id, ann.player_id, claim)

    keys = {"REJOIN_SECRET_KEYS": "operator-key-1-0123456789"}
    keyed = spawn(db_url, "--token-ttl", "3s", "--session-ttl", "3s", env=keys)
    keyed_api = make_api(keyed)
    ready_at = time.monotonic()
    # For one token lifetime (3 s here) the stored key still verifies, so that tokens issued
    # before the operator's keys keep working until they expire …
    assert keyed_api.state(table.game_id, forgery()).ok(200)
    # … and then no more: a token signed with the database's key now is refused.
    wait_for(
        lambda: keyed_api.state(table.game_id, forgery()).status == 401,
        timeout=15,
        what="the stored key to stop verifying",
    )
    assert time.monotonic() - ready_at >= 2.0
    keyed_api.state(table.game_id, forgery()).error("unauthorized")
    keyed.terminate()

    # Back to no operator keys: the stored key signs (and verifies) again.
    plain = spawn(db_url)
    assert make_api(plain).state(table.game_id, forgery()).ok(200)
    plain.terminate()
    # `--retire-stored-key`: at once, whatever the lifetimes.
    again = spawn(db_url, "--retire-stored-key", env=keys)
    make_api(again).state(table.game_id, forgery()).error("unauthorized")


def test_an_event_stream_of_an_older_claim_ends_when_the_seat_is_won_back(
    server: ServerProcess, api: Api
) -> None:
    """A copied session token had read the player's cards for as long as its stream stayed
    open, whatever the player did."""
    table = Table.create(api, seats=2)
    ann, _ = table.join_many(2)
    copied = ann.session
    path = f"/api/game/{table.game_id}/events?after=2"  # the two joins: no backlog
    headers = {"Authorization": f"Bearer {copied}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, connect=5.0)
    with (
        httpx.Client(base_url=server.url, timeout=timeout) as client,
        client.stream("GET", path, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == "retry: 300"
        assert next(lines) == ": connected"
        ann.reconnect(last_seq=0).ok(200)  # the player comes back
        table.start()  # cards are dealt: none of them may reach the old stream
        rest = list(sse_messages(lines))  # the server ends it (a read timeout would fail)
    # No event, only the close that says why (the presence of the players is no secret).
    assert [m for m in rest if m.id is not None] == [], rest
    assert rest[-1].event == "close", rest
    assert rest[-1].json()["code"] == 4409
    api.events(table.game_id, copied).error("token_reused")


def test_a_player_holds_a_few_event_streams_and_opening_more_ends_the_oldest(
    server: ServerProcess, api: Api
) -> None:
    """One join must not be able to hold any number of connections open."""
    table = Table.create(api, seats=2)
    ann, _ = table.join_many(2)
    path = f"/api/game/{table.game_id}/events?after=2"  # the two joins: no backlog
    headers = {"Authorization": f"Bearer {ann.session}", "Accept": "text/event-stream"}
    with contextlib.ExitStack() as opened:
        client = opened.enter_context(
            httpx.Client(base_url=server.url, timeout=httpx.Timeout(10.0, connect=5.0))
        )
        streams = []
        for _ in range(STREAMS_PER_PLAYER + 1):
            stream = opened.enter_context(client.stream("GET", path, headers=headers))
            lines = stream.iter_lines()
            assert next(lines) == "retry: 300"
            assert next(lines) == ": connected"
            streams.append(lines)
        # The oldest was ended by the newest: nothing more on it but the close saying so (after
        # the opening's presence of the other player).
        rest = [m for m in sse_messages(streams[0]) if m.event != "presence"]
        assert [(m.event, m.json()["code"], m.json()["reason"]) for m in rest] == [
            ("close", 4409, "superseded: too many streams")
        ], rest
        table.start()
        for lines in streams[1:]:  # the others stay, and stream the deal
            assert next(line for line in lines if line.startswith("id:"))


def test_operator_keys_on_a_new_database_store_no_key_of_its_own(
    spawn: Spawn, db_url: str, make_api: Callable[[ServerProcess], Api]
) -> None:
    """A key generated but never used would have verified for an hour: readable in the
    database, so forgeable."""
    api = make_api(spawn(db_url, env={"REJOIN_SECRET_KEYS": "operator-key-1-0123456789"}))
    Table.create(api, seats=2).join_many(2)
    assert Rows(db_url).query("SELECT count(*) FROM signing_keys")[0][0] == 0
