"""The HTTP API of docs/http-api.md, in-process: every endpoint's answer and documented errors, the error
body, input validation, auth, and what a player may see."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from itsdangerous.timed import TimestampSigner
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.app import create_app
from rejoin_server.host import writer as writer_module
from rejoin_server.settings import ServerSettings
from rejoin_server.store.memory import MemoryGameStore
from rejoin_testkit.polling import wait_for

from ..host.scripted_store import ScriptedStore
from .support import (
    ADMIN,
    ADMIN_AUTH,
    CARD,
    ISO_MS,
    Api,
    DownableStore,
    Player,
    assert_error,
    bearer,
    memory_store,
    running,
    running_async,
    strings,
)

DEFAULTS = {
    "seats": 6,
    "smallBlind": 1,
    "bigBlind": 2,
    "startingStack": 200,
    "actionTimeoutMs": 30_000,
    "autoNextHand": True,
    "nextHandDelayMs": 3_000,
}


def stranger(api: Api, game_id: str, player_id: str = "stranger") -> Player:
    """A player with a good session token for `game_id` but no seat in it."""
    signer = api.services.signer
    token = signer.reconnect_token(game_id, player_id, "0" * 32)
    return Player(game_id, player_id, -1, signer.session_token(game_id, player_id, ""), token)


# --- POST /api/games -----------------------------------------------------------------------------


def test_create_a_game_with_the_default_settings(api: Api) -> None:
    for reply in (api.client.post("/api/games"), api.client.post("/api/games", json={})):
        assert reply.status_code == 201, reply.text
        data = reply.json()
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", data.pop("gameId"))
        assert data == {"kind": "poker", "status": "waiting", "durability": "strict", **DEFAULTS}


def test_create_a_game_with_settings(api: Api) -> None:
    settings = {
        "seats": 2,
        "smallBlind": 5,
        "bigBlind": 10,
        "startingStack": 1000,
        "actionTimeoutMs": 5000,
        "autoNextHand": False,
        "nextHandDelayMs": 1000,
    }
    reply = api.client.post("/api/games", json=settings)
    assert reply.status_code == 201
    data = reply.json()
    assert data == {
        "gameId": data["gameId"],
        "kind": "poker",
        "status": "waiting",
        "durability": "strict",
        **settings,
    }
    assert data["gameId"] != api.create()


def test_integers_written_with_a_zero_fraction_are_integers(api: Api) -> None:
    """JSON (and JSON Schema's `integer`) does not tell 6 from 6.0; a fraction is still refused."""
    reply = api.client.post("/api/games", json={"seats": 3.0, "startingStack": 500.0})
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert (created["seats"], created["startingStack"]) == (3, 500)
    assert isinstance(created["seats"], int)
    game_id = created["gameId"]
    joined = api.client.post(f"/api/game/{game_id}/join", json={"name": "Ann", "seat": 2.0})
    assert joined.status_code == 201, joined.text
    assert joined.json()["seat"] == 2
    player = api.join(game_id, "Bob")
    reconnected = api.reconnect(player, lastSeq=1.0)
    assert reconnected.status_code == 200, reconnected.text
    assert [e["seq"] for e in reconnected.json()["missedEvents"]] == [2]
    assert_error(api.reconnect(player, lastSeq=1.5), ErrorCode.INVALID_REQUEST)


@pytest.mark.parametrize(
    "settings",
    [
        {"seats": 1},
        {"seats": 10},
        {"seats": True},
        {"seats": "6"},
        {"seats": 6.5},
        {"seats": None},
        {"smallBlind": 0},
        {"smallBlind": 5, "bigBlind": 2},
        {"startingStack": 1},
        {"actionTimeoutMs": -1},
        {"nextHandDelayMs": 10**12},
        {"autoNextHand": 1},
        {"autoNextHand": "true"},
        {"unknownSetting": 1},
        {"seats": 2**70},
    ],
)
def test_create_refuses_bad_settings(api: Api, settings: dict[str, Any]) -> None:
    assert_error(api.client.post("/api/games", json=settings), ErrorCode.INVALID_REQUEST)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"actionTimeoutMs": 0}, "actionTimeoutMs must be at least 1000 on this server, not 0"),
        ({"actionTimeoutMs": 999}, "actionTimeoutMs must be at least 1000"),
        ({"nextHandDelayMs": 0}, "nextHandDelayMs must be at least 1000 on this server, not 0"),
        ({"startingStack": 10**9}, "startingStack must be at most 1000000 on this server"),
        ({"bigBlind": 400, "startingStack": 300}, "startingStack must be between 400"),
    ],
)
def test_create_keeps_a_new_table_within_the_servers_bounds(
    api: Api, settings: dict[str, Any], says: str
) -> None:
    """Issue 12: zero clocks and a billion chips made a table that played itself for an hour."""
    error = assert_error(api.client.post("/api/games", json=settings), ErrorCode.INVALID_REQUEST)
    assert says in error["message"]


def test_the_operator_sets_the_bounds_of_new_tables() -> None:
    with running(
        min_action_timeout_ms=100, min_next_hand_delay_ms=0, max_starting_stack=500
    ) as api:
        assert api.client.post(
            "/api/games", json={"actionTimeoutMs": 100, "nextHandDelayMs": 0}
        ).is_success
        error = assert_error(
            api.client.post("/api/games", json={"startingStack": 501}), ErrorCode.INVALID_REQUEST
        )
        assert "at most 500" in error["message"]


# --- POST …/join ---------------------------------------------------------------------------------


def test_join_takes_the_first_free_seat_or_the_one_asked_for(api: Api) -> None:
    game_id = api.create()
    reply = api.client.post(f"/api/game/{game_id}/join", json={"name": "Ann"})
    assert reply.status_code == 201
    data = reply.json()
    assert set(data) == {"playerId", "seat", "sessionToken", "connectionToken"}
    assert data["seat"] == 0
    token = data["connectionToken"]
    assert set(token) == {"token", "expiresAt", "playerId"}
    assert token["playerId"] == data["playerId"]
    assert ISO_MS.match(token["expiresAt"])
    claims = api.services.signer.check_reconnect(token["token"])
    assert (claims.game_id, claims.player_id) == (game_id, data["playerId"])
    assert api.services.signer.check_session(data["sessionToken"]).player_id == data["playerId"]

    assert api.join(game_id, "Bob", seat=4).seat == 4
    assert api.join(game_id, "Cy").seat == 1
    seats = api.state(api.join(game_id, "Di"))["gameState"]["seats"]
    assert [(s["seat"], s["name"]) for s in seats] == [
        (0, "Ann"),
        (1, "Cy"),
        (2, "Di"),
        (4, "Bob"),
    ]


def test_join_errors(api: Api) -> None:
    game_id = api.create(seats=2)
    url = f"/api/game/{game_id}/join"
    api.join(game_id, "Ann", seat=1)
    assert_error(api.client.post(url, json={"name": "Bob", "seat": 1}), ErrorCode.SEAT_TAKEN)
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": 7},
        {"name": ["Ann"]},
        {"name": "x" * 33},
        {"name": "x" * 65},
        {"name": "Bob", "seat": True},
        {"name": "Bob", "seat": "0"},
        {"name": "Bob", "seat": 0.5},
        {"name": "Bob", "seat": -1},
        {"name": "Bob", "seat": 2},
        {"name": "Bob", "seat": 65},
    ):
        assert_error(api.client.post(url, json=body), ErrorCode.INVALID_REQUEST)
    api.join(game_id, "Bob")
    assert_error(api.client.post(url, json={"name": "Cy"}), ErrorCode.TABLE_FULL)
    assert_error(
        api.client.post("/api/game/no-such-game/join", json={"name": "Cy"}),
        ErrorCode.GAME_NOT_FOUND,
    )
    other = api.create()
    api.abandon(other)
    assert_error(
        api.client.post(f"/api/game/{other}/join", json={"name": "Cy"}), ErrorCode.GAME_COMPLETED
    )


# --- POST …/start --------------------------------------------------------------------------------


def test_start_deals_the_first_hand(api: Api) -> None:
    players = api.table(2)
    data = api.start(players[1])
    assert set(data) == {"success", "handNumber", "seq"}
    assert data["success"] is True
    assert data["handNumber"] == 1
    state = api.state(players[0])
    assert data["seq"] == state["seq"] == state["gameState"]["seq"]
    assert state["gameState"]["status"] == "playing"
    assert state["gameState"]["phase"] == "preflop"


def test_start_errors(api: Api) -> None:
    alone = api.table(1)[0]
    url = f"/api/game/{alone.game_id}/start"
    assert_error(api.client.post(url, headers=alone.auth), ErrorCode.INVALID_ACTION)
    second = api.join(alone.game_id, "Bob")
    api.start(second)
    assert_error(api.client.post(url, headers=alone.auth), ErrorCode.HAND_IN_PROGRESS)
    assert_auth_errors(api, "POST", url, alone)


def assert_auth_errors(api: Api, method: str, url: str, player: Player, **kw: Any) -> None:
    """Missing or bad session token → 401; another game's token → 403; no seat → 403."""
    reply = api.client.request(method, url, **kw)
    assert_error(reply, ErrorCode.UNAUTHORIZED)
    assert reply.headers.get("www-authenticate") == "Bearer"
    for headers in (
        bearer("garbage"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        bearer(player.reconnect),  # a reconnect token is not a session token
    ):
        assert_error(api.client.request(method, url, headers=headers, **kw), ErrorCode.UNAUTHORIZED)
    elsewhere = api.join(api.create(), "Zed")
    assert_error(api.client.request(method, url, headers=elsewhere.auth, **kw), ErrorCode.FORBIDDEN)
    nobody = stranger(api, player.game_id)
    assert_error(
        api.client.request(method, url, headers=nobody.auth, **kw), ErrorCode.PLAYER_NOT_IN_GAME
    )


# --- POST …/action -------------------------------------------------------------------------------


def test_act_and_resend(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    actor = api.to_act(players)
    before = api.state(actor)["seq"]
    reply = api.act(actor, "call", action_id="a-1")
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data == {"success": True, "seq": data["seq"], "duplicate": False, "durable": True}
    assert data["seq"] > before
    again = api.act(actor, "call", action_id="a-1")
    assert again.json() == {**data, "duplicate": True}
    assert api.state(actor)["seq"] == data["seq"]


def test_bet_and_raise_amounts_are_totals(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    actor = api.to_act(players)
    raised = api.act(actor, "raise", 6)
    assert raised.status_code == 200, raised.text
    seat = next(s for s in api.state(actor)["gameState"]["seats"] if s["seat"] == actor.seat)
    assert seat["bet"] == 6


def test_action_errors(api: Api) -> None:
    players = api.table(2)
    url = f"/api/game/{players[0].game_id}/action"
    assert_error(api.act(players[0], "call"), ErrorCode.NO_HAND_IN_PROGRESS)
    api.start(players[0])
    actor = api.to_act(players)
    waiting = next(p for p in players if p is not actor)
    seq = api.state(actor)["seq"]
    assert_error(api.act(waiting, "call"), ErrorCode.NOT_YOUR_TURN)
    assert_error(api.act(actor, "check"), ErrorCode.INVALID_ACTION)
    assert_error(api.act(actor, "raise", 3), ErrorCode.INVALID_ACTION)
    assert_error(api.act(actor, "bet", 10**9), ErrorCode.INVALID_ACTION)
    stale = {"actionId": "s", "type": "call", "atSeq": seq - 1}
    assert_error(api.client.post(url, json=stale, headers=actor.auth), ErrorCode.STALE_STATE)
    for body in (
        {"type": "call"},
        {"actionId": "", "type": "call"},
        {"actionId": 5, "type": "call"},
        {"actionId": "x" * 129, "type": "call"},
        {"actionId": "b"},
        {"actionId": "b", "type": 1},
        {"actionId": "b", "type": "x" * 33},
        {"actionId": "b", "type": "raise", "amount": True},
        {"actionId": "b", "type": "raise", "amount": "10"},
        {"actionId": "b", "type": "raise", "amount": 10.5},
        {"actionId": "b", "type": "raise", "amount": -1},
        {"actionId": "b", "type": "raise", "amount": 2**60},
        {"actionId": "b", "type": "call", "atSeq": "3"},
        {"actionId": "b", "type": "call", "atSeq": False},
        {"actionId": "b", "type": "call", "atSeq": -1},
    ):
        assert_error(api.client.post(url, json=body, headers=actor.auth), ErrorCode.INVALID_REQUEST)
    # A move the game does not know is the game's to refuse, as are fields it does not take.
    for body in (
        {"actionId": "b", "type": "dance"},
        {"actionId": "b", "type": "CALL"},
        {"actionId": "b", "type": "call", "size": 3},
    ):
        assert_error(api.client.post(url, json=body, headers=actor.auth), ErrorCode.INVALID_ACTION)
    assert api.state(actor)["seq"] == seq  # nothing refused was applied
    body = {"actionId": "c", "type": "call"}
    assert_auth_errors(api, "POST", url, actor, json=body)


def test_the_websockets_nested_action_over_http_is_told_the_body_is_flat(api: Api) -> None:
    """The WebSocket's `{action: {type, amount}, actionId}` sent to `POST …/action` is refused
    with a message showing the flat shape, not a puzzling "`type` is required", and nothing is
    applied."""
    players = api.table(2)
    api.start(players[0])
    actor = api.to_act(players)
    url = f"/api/game/{actor.game_id}/action"
    seq = api.state(actor)["seq"]
    for nested in (
        {"action": {"type": "call"}, "actionId": "n-1"},
        {"action": {"type": "raise", "amount": 6}, "actionId": "n-2", "atSeq": seq},
        # The WebSocket frame as it is, `type` and all.
        {"type": "action", "action": {"type": "call"}, "actionId": "n-3"},
    ):
        reply = api.client.post(url, json=nested, headers=actor.auth)
        message = assert_error(reply, ErrorCode.INVALID_REQUEST)["message"]
        assert "flat" in message, message
        assert '"type": "raise"' in message, message  # the shape to send instead
        assert "is required" not in message, message
    assert api.state(actor)["seq"] == seq
    flat = {"actionId": "n-1", "type": "call"}
    assert api.client.post(url, json=flat, headers=actor.auth).status_code == 200


def legal_types(api: Api, player: Player) -> list[str]:
    return [a["type"] for a in api.state(player)["gameState"]["you"]["legalActions"]]


def test_two_players_may_use_the_same_action_id(api: Api) -> None:
    """actionIds are per player: per game, the second player's "1" would answer the first
    player's result (duplicate: true) and their action would never be applied."""
    players = api.table(2)
    api.start(players[0])
    first = api.to_act(players)
    reply = api.act(first, "call", action_id="1")
    assert reply.status_code == 200, reply.text
    one = reply.json()
    assert one["duplicate"] is False

    second = api.to_act(players)
    assert second != first
    kind = "check" if "check" in legal_types(api, second) else "call"
    reply = api.act(second, kind, action_id="1")
    assert reply.status_code == 200, reply.text
    two = reply.json()
    assert two["duplicate"] is False
    assert two["seq"] > one["seq"]
    assert api.state(first)["seq"] == two["seq"]
    kinds = [e["kind"] for e in api.events(first, after=one["seq"] - 1)["events"]]
    assert kinds.count("action") == 2  # both applied

    again = api.act(first, "call", action_id="1")
    assert again.status_code == 200, again.text
    assert again.json() == {**one, "duplicate": True}
    again = api.act(second, kind, action_id="1")
    assert again.status_code == 200, again.text
    assert again.json() == {**two, "duplicate": True}
    assert api.state(first)["seq"] == two["seq"]


# --- GET …/state ---------------------------------------------------------------------------------


def test_state_is_the_players_view(api: Api) -> None:
    players = api.table(3)
    api.start(players[0])
    for player in players:
        data = api.state(player)
        assert set(data) == {"gameState", "seq"}
        view = data["gameState"]
        assert view["gameId"] == player.game_id
        assert view["you"]["playerId"] == player.player_id
        assert view["you"]["seat"] == player.seat
        for seat in view["seats"]:
            if seat["seat"] == player.seat:
                assert len(seat["holeCards"]) == 2
                assert all(CARD.match(card) for card in seat["holeCards"])
            else:
                assert seat["holeCards"] is None
    actor = api.to_act(players)
    assert api.state(actor)["gameState"]["you"]["legalActions"]
    other = next(p for p in players if p is not actor)
    assert api.state(other)["gameState"]["you"]["legalActions"] == []


def test_state_errors(api: Api) -> None:
    player = api.table(1)[0]
    url = f"/api/game/{player.game_id}/state"
    assert_auth_errors(api, "GET", url, player)


# --- GET …/events --------------------------------------------------------------------------------


def test_events_as_json(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    first, second = players
    data = api.events(first)
    seq = api.state(first)["seq"]
    assert data["seq"] == seq
    events = data["events"]
    assert [e["seq"] for e in events] == list(range(1, seq + 1))
    assert all(set(e) == {"seq", "kind", "at", "data"} for e in events)
    holes = {e["data"]["playerId"]: e for e in events if e["kind"] == "hole_cards"}
    assert len(holes[first.player_id]["data"]["cards"]) == 2
    assert holes[second.player_id]["data"]["cards"] is None  # same seq, redacted
    assert [e["seq"] for e in api.events(first, after=3)["events"]] == list(range(4, seq + 1))
    assert api.events(first, after=seq)["events"] == []
    # Past the end is tested in test_operations: stale_state, as for the event stream.
    # ?session= is allowed instead of the header.
    reply = api.client.get(
        f"/api/game/{first.game_id}/events?session={first.session}",
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 200
    assert reply.json() == data


def test_events_json_is_capped_by_the_replay_limit() -> None:
    with running(replay_limit=3) as api:
        players = api.table(2)
        api.start(players[0])
        data = api.events(players[0])
        assert [e["seq"] for e in data["events"]] == [1, 2, 3]
        assert data["seq"] > 3


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "1e3", "9" * 16, " 1"])
def test_events_with_a_bad_after_are_invalid_request(api: Api, after: str) -> None:
    player = api.table(1)[0]
    reply = api.client.get(
        f"/api/game/{player.game_id}/events",
        params={"after": after},
        headers={**player.auth, "Accept": "application/json"},
    )
    assert_error(reply, ErrorCode.INVALID_REQUEST)


@pytest.mark.parametrize("after", ["²", "³", "①"])
def test_events_with_a_unicode_digit_after_are_invalid_request_not_500(
    api: Api, after: str
) -> None:
    """str.isdigit() is true for '²' but int('²') raises: the server must answer 422."""
    player = api.table(1)[0]
    reply = api.client.get(
        f"/api/game/{player.game_id}/events",
        params={"after": after},
        headers={**player.auth, "Accept": "application/json"},
    )
    assert reply.status_code != 500, "GET …/events?after=² is a 500"
    assert_error(reply, ErrorCode.INVALID_REQUEST)


def test_events_errors(api: Api) -> None:
    player = api.table(1)[0]
    url = f"/api/game/{player.game_id}/events"
    assert_auth_errors(api, "GET", f"{url}?after=0", player)
    reply = api.client.get(f"{url}?session=garbage", headers={"Accept": "application/json"})
    assert_error(reply, ErrorCode.UNAUTHORIZED)


def read_frames(lines: Any, until_seq: int) -> list[dict[str, Any]]:
    """SSE frames (`id`, `event`, `data`) read from `lines` up to the one with id `until_seq`;
    a block without data (the opening `retry:`) or without an id (presence) is none."""
    frames: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if line.startswith(":") or line.startswith("retry:"):
            continue
        if line == "":
            if "data" in current and "id" in current:
                frames.append(current)
                if int(current["id"]) >= until_seq:
                    return frames
            current = {}
            continue
        field, _, value = line.partition(": ")
        current[field] = json.loads(value) if field == "data" else value
    raise AssertionError(f"the stream ended before seq {until_seq}: {frames}")


@pytest.mark.timeout(30)
def test_events_as_server_sent_events(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    first, second = players
    seq = api.state(first)["seq"]
    url = f"/api/game/{first.game_id}/events"
    with api.client.stream("GET", url, headers=first.auth) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert reply.headers["cache-control"] == "no-store"
        lines = reply.iter_lines()
        assert next(lines) == "retry: 300"
        assert next(lines) == ": connected"
        frames = read_frames(lines, seq)
        assert [int(f["id"]) for f in frames] == list(range(1, seq + 1))
        for frame in frames:
            assert frame["event"] == frame["data"]["kind"]
            assert frame["data"]["seq"] == int(frame["id"])
            if frame["event"] == "hole_cards" and frame["data"]["data"]["playerId"] != (
                first.player_id
            ):
                assert frame["data"]["data"]["cards"] is None
        # A live event arrives on the open stream.
        actor = api.to_act(players)
        acted = api.act(actor, "fold").json()["seq"]
        live = read_frames(lines, acted)
        assert [int(f["id"]) for f in live] == list(range(seq + 1, acted + 1))
        assert live[0]["event"] == "action"
    seats = api.state(first)["gameState"]["seats"]
    theirs = next(s for s in seats if s["playerId"] == second.player_id)
    assert theirs["connected"] is False  # the other player never connected


@pytest.mark.timeout(30)
def test_server_sent_events_resume_after_last_event_id_and_take_session_query(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    first = players[0]
    seq = api.state(first)["seq"]
    url = f"/api/game/{first.game_id}/events?session={first.session}"
    with api.client.stream("GET", url, headers={"Last-Event-ID": "3"}) as reply:
        assert reply.status_code == 200
        frames = read_frames(reply.iter_lines(), seq)
        assert [int(f["id"]) for f in frames] == list(range(4, seq + 1))
    with api.client.stream("GET", f"{url}&after=5") as reply:
        frames = read_frames(reply.iter_lines(), seq)
        assert [int(f["id"]) for f in frames] == list(range(6, seq + 1))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("last_id", [b"\xb2", b"\xb3", b"\xb9", b"1\xb2"])
def test_server_sent_events_with_a_latin1_digit_last_event_id_is_not_a_500(
    api: Api, last_id: bytes
) -> None:
    """`Last-Event-ID: ²` (byte 0xB2, which Starlette reads as Latin-1): str.isdigit() is true
    for '²', but int('²') raises. The header should be ignored (or refused), never a 500."""
    player = api.table(1)[0]
    status, body = api.raw_get(
        f"/api/game/{player.game_id}/events",
        [(b"authorization", f"Bearer {player.session}".encode()), (b"last-event-id", last_id)],
    )
    assert status != 500, f"Last-Event-ID {last_id!r} answers 500: {body[:200]!r}"
    assert status in (200, 422), body


def test_a_quiet_event_stream_sends_ping_comments() -> None:
    """The heartbeat is a comment: as an event with seq -1 the stream would skip it as already
    sent, and a quiet stream would send nothing at all. It comes every ping interval of silence
    (`--ping-interval`, 5 s by default: under the SDK's 15 s silence timeout)."""
    with running(ping_interval_ms=10) as api:
        p0, _ = api.table(2)
        seq = api.start(p0)["seq"]
        path = f"/api/game/{p0.game_id}/events?after=0"
        status, body = api.stream_until(path, p0.auth, b": ping\n\n: ping")
    assert status == 200, body
    assert b"\n: ping\n\n: ping\n\n" in body, body
    backlog, _, _ = body.partition(b": ping")
    assert f"id: {seq}\n".encode() in backlog  # the backlog first, then the heartbeats


def test_an_event_stream_opens_with_the_retry_a_browser_waits_before_it_reconnects(
    api: Api,
) -> None:
    """Without `retry:` a browser's EventSource waits its own default (3 s in Chromium) before it
    reconnects a stream a restart broke; `--sse-retry` (300 ms by default) is said first."""
    p0, _ = api.table(2)
    status, body = api.stream_until(f"/api/game/{p0.game_id}/events", p0.auth, b"\n\n")
    assert status == 200, body
    assert body.startswith(b"retry: 300\n: connected\n\n"), body


@pytest.mark.parametrize("via", ["last-event-id", "after"])
def test_a_resume_point_beyond_the_games_seq_is_stale_state(api: Api, via: str) -> None:
    """A stream opened (200) at a bogus id would silently drop every event up to it: a client
    resuming from a seq of another game (or a rolled-back one) would miss events."""
    p0, _ = api.table(2)
    seq = api.state(p0)["seq"]
    path = f"/api/game/{p0.game_id}/events"

    def open_at(after: int) -> tuple[int, bytes]:
        if via == "after":
            return api.stream_until(f"{path}?after={after}", p0.auth, b"\n\n")
        return api.stream_until(path, {**p0.auth, "Last-Event-ID": str(after)}, b"\n\n")

    status, body = open_at(seq + 1)
    assert status == 409, body
    reply = httpx.Response(status, headers={"content-type": "application/json"}, content=body)
    error = assert_error(reply, ErrorCode.STALE_STATE)
    assert str(seq) in error["message"]
    assert orjson.loads(body)["error"]["code"] == "stale_state"

    status, body = open_at(seq)  # at the end exactly: a stream with nothing to catch up
    assert status == 200, body
    assert body.startswith(b"retry: 300\n: connected")


# --- GET …/connection-token ----------------------------------------------------------------------


def test_connection_token(api: Api) -> None:
    """The seat's current reconnect token (not one more each call), and a fresh session token."""
    player = api.table(1)[0]
    signer = api.services.signer
    url = f"/api/game/{player.game_id}/connection-token"
    reply = api.client.get(url, headers=player.auth)
    assert reply.status_code == 200
    token = reply.json()
    assert set(token) == {"token", "expiresAt", "playerId", "sessionToken"}
    assert token["playerId"] == player.player_id
    assert ISO_MS.match(token["expiresAt"])
    joined = signer.check_reconnect(player.reconnect).jti
    assert signer.check_reconnect(token["token"]).jti == joined
    again = api.client.get(url, headers=player.auth).json()
    assert signer.check_reconnect(again["token"]).jti == joined
    store = api.services.store
    assert isinstance(store, MemoryGameStore)
    assert len(store._tokens) == 1  # the join's, handed out again: no token minted
    renewed = {"Authorization": f"Bearer {token['sessionToken']}"}
    assert api.client.get(f"/api/game/{player.game_id}/state", headers=renewed).is_success

    fresh = api.reconnect(player, token["token"], lastSeq=0)
    assert fresh.status_code == 200, fresh.text
    successor = fresh.json()["connectionToken"]["token"]
    now_auth = {"Authorization": f"Bearer {fresh.json()['sessionToken']}"}
    current = api.client.get(url, headers=now_auth).json()
    assert signer.check_reconnect(current["token"]).jti == signer.check_reconnect(successor).jti
    assert_auth_errors(api, "GET", url, player)


# --- POST …/reconnect ----------------------------------------------------------------------------


@pytest.mark.parametrize("epoch", ["x.²", "x", ".3", "x.3.4", "no-such-epoch.1"])
def test_a_last_epoch_that_is_not_the_servers_is_a_resync_never_a_failure(
    api: Api, epoch: str
) -> None:
    """A client's `lastEpoch` is only ever compared: one that is garbage, or names a history
    the server does not have, is answered with the fresh state (`str.isdigit` takes "²")."""
    ann, _ = api.table(2)
    reply = api.reconnect(ann, lastSeq=1, lastEpoch=epoch)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["resync"], reply.json()["missedEvents"]) == (True, [])


def test_reconnect_replays_the_missed_events(api: Api) -> None:
    players = api.table(2)
    api.start(players[0])
    first, second = players
    seq = api.state(first)["seq"]
    reply = api.reconnect(first, lastSeq=2, clientId="tab-1", gameId=first.game_id)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert set(data) == {
        "success",
        "seat",
        "gameState",
        "reconnectedAt",
        "missedEvents",
        "resync",
        "seq",
        "epoch",
        "connectionToken",
        "sessionToken",
    }
    assert data["success"] is True
    assert data["resync"] is False
    assert data["seq"] == seq
    assert ISO_MS.match(data["reconnectedAt"])
    assert [e["seq"] for e in data["missedEvents"]] == list(range(3, seq + 1))
    holes = [e for e in data["missedEvents"] if e["kind"] == "hole_cards"]
    for event in holes:
        mine = event["data"]["playerId"] == first.player_id
        assert (event["data"]["cards"] is not None) == mine
    resumed = replace(first, session=data["sessionToken"])
    assert data["gameState"] == api.state(resumed)["gameState"]
    assert data["connectionToken"]["playerId"] == first.player_id
    assert data["connectionToken"]["token"] != first.reconnect
    # The fresh session token works; the fresh reconnect token is the one to use next.
    assert (
        api.client.get(
            f"/api/game/{first.game_id}/state", headers=bearer(data["sessionToken"])
        ).status_code
        == 200
    )
    again = api.reconnect(first, data["connectionToken"]["token"], lastSeq=seq)
    assert again.status_code == 200
    assert again.json()["missedEvents"] == []
    assert again.json()["resync"] is False
    # The seat is said (an SSE client has no welcome to read it from), for each player its own.
    assert data["seat"] == first.seat
    theirs = api.reconnect(second, lastSeq=seq)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["seat"] == second.seat != first.seat


def test_reconnect_without_last_seq_or_past_the_replay_limit_is_a_resync() -> None:
    with running(replay_limit=3) as api:
        players = api.table(2)
        api.start(players[0])
        first = players[0]
        seq = api.state(first)["seq"]
        reply = api.reconnect(first, clientId="c")
        assert reply.status_code == 200
        assert (reply.json()["missedEvents"], reply.json()["resync"]) == ([], True)
        token = reply.json()["connectionToken"]["token"]
        reply = api.reconnect(first, token, lastSeq=0)
        assert (reply.json()["missedEvents"], reply.json()["resync"]) == ([], True)
        token = reply.json()["connectionToken"]["token"]
        reply = api.reconnect(first, token, lastSeq=seq + 5)  # ahead of the server: resync
        assert (reply.json()["missedEvents"], reply.json()["resync"]) == ([], True)
        token = reply.json()["connectionToken"]["token"]
        reply = api.reconnect(first, token, lastSeq=seq - 3)
        assert [e["seq"] for e in reply.json()["missedEvents"]] == [seq - 2, seq - 1, seq]


def test_reconnect_first_wins_and_the_same_client_gets_the_same_answer(api: Api) -> None:
    player = api.table(1)[0]
    signer = api.services.signer
    won = api.reconnect(player, clientId="tab-1", lastSeq=0)
    assert won.status_code == 200
    retry = api.reconnect(player, clientId="tab-1", lastSeq=0)
    assert retry.status_code == 200
    assert signer.check_reconnect(retry.json()["connectionToken"]["token"]).jti == (
        signer.check_reconnect(won.json()["connectionToken"]["token"]).jti
    )
    assert_error(api.reconnect(player, clientId="tab-2", lastSeq=0), ErrorCode.SEAT_CONFLICT)
    assert_error(api.reconnect(player, lastSeq=0), ErrorCode.SEAT_CONFLICT)
    successor = won.json()["connectionToken"]["token"]
    assert api.reconnect(player, successor, clientId="tab-1").status_code == 200
    assert_error(api.reconnect(player, clientId="tab-2"), ErrorCode.TOKEN_REUSED)


def test_reconnect_errors(api: Api) -> None:
    first, second = api.table(2)
    game_id = first.game_id
    url = f"/api/game/{game_id}/reconnect"
    forged = api.services.signer.reconnect_token(game_id, first.player_id, "0" * 32)
    assert_error(api.reconnect(first, forged), ErrorCode.TOKEN_INVALID)  # signed, never issued
    assert_error(api.reconnect(first, first.reconnect[:-3] + "AAA"), ErrorCode.TOKEN_INVALID)
    assert_error(api.reconnect(first, "garbage"), ErrorCode.TOKEN_INVALID)
    elsewhere = api.join(api.create(), "Zed")
    assert_error(api.reconnect(first, elsewhere.reconnect), ErrorCode.FORBIDDEN)
    assert_error(api.reconnect(first, second.reconnect), ErrorCode.FORBIDDEN)
    nobody = stranger(api, game_id)
    assert_error(api.reconnect(nobody), ErrorCode.PLAYER_NOT_IN_GAME)
    # Ownership is checked before seating, so a token cannot be used to probe who is seated.
    assert_error(api.reconnect(nobody, first.reconnect), ErrorCode.FORBIDDEN)
    for body in (
        {"reconnectToken": first.reconnect},
        {"playerId": first.player_id},
        {"playerId": first.player_id, "reconnectToken": ""},
        {"playerId": first.player_id, "reconnectToken": 5},
        {"playerId": first.player_id, "reconnectToken": first.reconnect, "gameId": "other"},
        {"playerId": first.player_id, "reconnectToken": first.reconnect, "lastSeq": "3"},
        {"playerId": first.player_id, "reconnectToken": first.reconnect, "lastSeq": True},
        {"playerId": first.player_id, "reconnectToken": first.reconnect, "lastSeq": -1},
        {"playerId": first.player_id, "reconnectToken": first.reconnect, "clientId": 7},
        {"playerId": first.player_id, "reconnectToken": "x" * 1025},
    ):
        assert_error(api.client.post(url, json=body), ErrorCode.INVALID_REQUEST)
    # None of the refusals used the token up.
    assert api.reconnect(first, lastSeq=0).status_code == 200
    unknown = stranger(api, "no-such-game", first.player_id)
    reply = api.client.post(
        "/api/game/no-such-game/reconnect",
        json={"playerId": first.player_id, "reconnectToken": unknown.reconnect},
    )
    assert_error(reply, ErrorCode.GAME_NOT_FOUND)


def test_reconnect_with_an_expired_token_is_token_expired(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    game_id = api.create()
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3_600)
        player = api.join(game_id, "Ann")
    assert_error(api.reconnect(player, lastSeq=0), ErrorCode.TOKEN_EXPIRED)


def test_reconnect_to_a_completed_game_answers_the_final_state(api: Api) -> None:
    first, _ = api.table(2)
    api.start(first)
    api.abandon(first.game_id)
    error = assert_error(api.reconnect(first, lastSeq=0), ErrorCode.GAME_COMPLETED)
    view = error["details"]["gameState"]
    assert view["status"] == "completed"
    assert view["you"]["playerId"] == first.player_id
    mine = next(s for s in view["seats"] if s["seat"] == first.seat)
    assert mine["holeCards"] is not None


def test_a_reconnect_whose_missed_events_cannot_be_read_leaves_its_token_unused() -> None:
    """The token is consumed last, after the missed events were read: consumed first, a 503
    would leave the player with a used token (the retry would answer token_reused)."""
    store = ScriptedStore()
    with running(store) as api:
        p0, p1 = api.table(2)
        api.start(p0)
        api.forget(p0.game_id)  # reloaded on the next touch with no events in memory …
        seq = api.state(p1)["seq"]
        store.fail_read_events_next(1)  # … so the replay reads the store, which fails once
        assert_error(api.reconnect(p1, lastSeq=0), ErrorCode.STORAGE_UNAVAILABLE)

        again = api.reconnect(p1, lastSeq=0)
        assert again.status_code == 200, again.text
        data = again.json()
        assert data["seq"] == seq
        assert [e["seq"] for e in data["missedEvents"]] == list(range(1, seq + 1))
        assert data["resync"] is False
        # and that token is now used (by another client a moment ago: seat_conflict)
        code = api.reconnect(p1).json()["error"]["code"]
        assert code in {"seat_conflict", "token_reused"}


# --- persist, restore, delete --------------------------------------------------------------------


def test_persist_by_a_player_and_by_the_admin(api: Api) -> None:
    first, _ = api.table(2)
    url = f"/api/game/{first.game_id}/persist"
    seq = api.state(first)["seq"]
    reply = api.client.post(url, headers=first.auth)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert set(data) == {"success", "persistedAt", "version"}
    assert (data["success"], data["version"]) == (True, seq)
    assert ISO_MS.match(data["persistedAt"])
    reply = api.client.post(
        url, json={"gameId": first.game_id, "forceOverwrite": True}, headers=ADMIN_AUTH
    )
    assert reply.status_code == 200
    assert reply.json()["version"] == seq


def test_persist_errors(api: Api) -> None:
    first, _ = api.table(2)
    url = f"/api/game/{first.game_id}/persist"
    for body in ({"gameId": "other"}, {"forceOverwrite": "yes"}, {"forceOverwrite": 1}):
        assert_error(api.client.post(url, json=body, headers=first.auth), ErrorCode.INVALID_REQUEST)
    assert_auth_errors(api, "POST", url, first)
    assert_error(api.client.post(url, headers=bearer(ADMIN + "x")), ErrorCode.UNAUTHORIZED)
    assert_error(
        api.client.post("/api/game/no-such-game/persist", headers=ADMIN_AUTH),
        ErrorCode.GAME_NOT_FOUND,
    )


def test_restore_gives_the_admin_the_whole_state_and_a_player_their_view(api: Api) -> None:
    first, second = api.table(2)
    api.start(first)
    url = f"/api/game/{first.game_id}/restore"
    seq = api.state(first)["seq"]
    api.forget(first.game_id)  # restore loads it from storage
    reply = api.client.get(url, headers=ADMIN_AUTH)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert {"success", "gameState", "version", "persistedAt"} <= set(data)
    assert (data["success"], data["version"]) == (True, seq)
    assert ISO_MS.match(data["persistedAt"])
    assert "you" not in data["gameState"]  # the full state, not a player's view
    reply = api.client.get(url, headers=first.auth)
    assert reply.status_code == 200
    assert reply.json()["gameState"] == api.state(first)["gameState"]
    assert reply.json()["version"] == seq
    assert second.player_id != first.player_id


def test_restore_errors(api: Api) -> None:
    player = api.table(1)[0]
    assert_auth_errors(api, "GET", f"/api/game/{player.game_id}/restore", player)
    assert_error(
        api.client.get("/api/game/no-such-game/restore", headers=ADMIN_AUTH),
        ErrorCode.GAME_NOT_FOUND,
    )


def test_a_player_may_delete_a_game_only_once_it_is_completed(api: Api) -> None:
    first, _ = api.table(2)
    url = f"/api/game/{first.game_id}/persist"
    assert_error(api.client.delete(url, headers=first.auth), ErrorCode.GAME_ACTIVE)
    api.abandon(first.game_id)
    reply = api.client.delete(url, headers=first.auth)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["success"] is True
    deleted = data["deleted"]
    assert set(deleted) == {"events", "snapshots", "tokens"}
    assert deleted["events"] == 3  # two joins and the game_completed
    assert deleted["tokens"] == 2
    assert_error(
        api.client.get(f"/api/game/{first.game_id}/state", headers=first.auth),
        ErrorCode.GAME_NOT_FOUND,
    )
    assert_error(api.client.delete(url, headers=first.auth), ErrorCode.GAME_NOT_FOUND)


def test_the_admin_may_delete_any_game(api: Api) -> None:
    first, _ = api.table(2)
    api.start(first)
    url = f"/api/game/{first.game_id}/persist"
    seq = api.state(first)["seq"]
    reply = api.client.delete(url, headers=ADMIN_AUTH)
    assert reply.status_code == 200
    assert reply.json()["deleted"]["events"] == seq
    assert_error(api.client.delete(url, headers=ADMIN_AUTH), ErrorCode.GAME_NOT_FOUND)
    assert_error(api.reconnect(first, lastSeq=0), ErrorCode.GAME_NOT_FOUND)


def test_delete_errors(api: Api) -> None:
    player = api.table(1)[0]
    url = f"/api/game/{player.game_id}/persist"
    reply = api.client.delete(url)
    assert_error(reply, ErrorCode.UNAUTHORIZED)
    elsewhere = api.join(api.create(), "Zed")
    assert_error(api.client.delete(url, headers=elsewhere.auth), ErrorCode.FORBIDDEN)
    nobody = stranger(api, player.game_id)
    assert_error(api.client.delete(url, headers=nobody.auth), ErrorCode.PLAYER_NOT_IN_GAME)
    assert_error(
        api.client.delete("/api/game/no-such-game/persist", headers=ADMIN_AUTH),
        ErrorCode.GAME_NOT_FOUND,
    )


def test_without_an_admin_token_configured_nobody_is_admin() -> None:
    with running(admin_token=None) as api:
        player = api.table(1)[0]
        url = f"/api/game/{player.game_id}/persist"
        assert_error(api.client.delete(url, headers=ADMIN_AUTH), ErrorCode.UNAUTHORIZED)
        assert_error(api.client.delete(url, headers=bearer("")), ErrorCode.UNAUTHORIZED)


# --- health, metrics, schema, routing ------------------------------------------------------------


def test_healthz(api: Api) -> None:
    reply = api.client.get("/healthz")
    assert reply.status_code == 200
    data = reply.json()
    assert data["status"] == "ok"
    assert data["storage"] == "available"
    assert data["pendingWrites"] == 0
    assert data["backend"] == "memory"
    assert data["durability"] == "strict"
    assert data["node"] == reply.headers["x-rejoin-node"]
    assert data["games"] == data["gamesActive"] == 0
    api.table(2)
    assert api.client.get("/healthz").json()["games"] == 1


def test_every_answer_names_the_node_that_gave_it() -> None:
    """`X-Rejoin-Node` on answers, errors and pages alike (behind a proxy, which node served a
    request is otherwise invisible)."""
    with running(node_id="web-7") as named:
        player = named.table(2)[0]
        for reply in (
            named.client.get("/healthz"),
            named.client.get(f"/api/game/{player.game_id}/state", headers=player.auth),
            named.client.get("/api/game/nope/state", headers=player.auth),  # an error
            named.client.post("/api/games", content=b"{"),  # a body that is not JSON
            named.client.get("/no/such/path"),
            named.client.get("/"),  # the lobby page
        ):
            assert reply.headers.get("x-rejoin-node") == "web-7", (reply.request.url, reply)
            assert reply.headers.get_list("x-rejoin-node") == ["web-7"]  # once, not per layer
        # A WebSocket's upgrade is an answer too.
        with named.client.websocket_connect(f"/api/game/{player.game_id}/ws") as socket:
            assert socket.extra_headers == [(b"x-rejoin-node", b"web-7")]


def test_metrics_need_the_admin_off_loopback(api: Api) -> None:
    assert_error(api.client.get("/metrics"), ErrorCode.UNAUTHORIZED)
    player = api.table(1)[0]
    assert_error(api.client.get("/metrics", headers=player.auth), ErrorCode.FORBIDDEN)
    reply = api.client.get("/metrics", headers=ADMIN_AUTH)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert "rejoin_games_active 1.0" in reply.text


def test_metrics_are_open_on_loopback() -> None:
    app = create_app(ServerSettings(), store_factory=memory_store)
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        reply = client.get("/metrics")
        assert reply.status_code == 200
        assert "rejoin_degraded" in reply.text


def test_openapi_lists_every_endpoint(api: Api) -> None:
    reply = api.client.get("/openapi.json")
    assert reply.status_code == 200
    schema = reply.json()
    assert schema["openapi"].startswith("3.")
    game = "/api/game/{gameId}"
    expected = {
        ("post", "/api/games"),
        ("post", f"{game}/join"),
        ("post", f"{game}/start"),
        ("post", f"{game}/action"),
        ("get", f"{game}/state"),
        ("get", f"{game}/events"),
        ("get", f"{game}/connection-token"),
        ("post", f"{game}/reconnect"),
        ("post", f"{game}/persist"),
        ("get", f"{game}/restore"),
        ("delete", f"{game}/persist"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    }
    listed = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert expected <= listed
    codes = schema["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(codes["enum"]) == {code.value for code in ErrorCode}


def _schemas(value: object) -> list[dict[str, object]]:
    """Every object schema anywhere under `value`."""
    if isinstance(value, dict):
        found = [value] if value.get("type") == "object" else []
        return found + [s for v in value.values() for s in _schemas(v)]
    if isinstance(value, list):
        return [s for v in value for s in _schemas(v)]
    return []


def test_openapi_says_what_conformance_needs_and_stays_open(api: Api) -> None:
    """What e2e/server/test_openapi_conformance.py relies on, and what must stay true as fields
    are added: answers open to new fields, 429 where rate limits apply, the SSE answer, who needs
    a bearer token."""
    paths = api.client.get("/openapi.json").json()["paths"]
    game = "/api/game/{gameId}"
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                for schema in _schemas(response):
                    assert schema.get("additionalProperties") is not False, (method, path, status)
    limited = {("post", "/api/games"), ("post", f"{game}/join"), ("get", f"{game}/connection-token"),
               ("post", f"{game}/persist")}  # fmt: skip
    for method, path in limited:
        too_many = paths[path][method]["responses"]["429"]
        assert too_many["headers"]["Retry-After"]["required"] is True
    events = paths[f"{game}/events"]["get"]["responses"]["200"]["content"]
    assert set(events) == {"application/json", "text/event-stream"}
    # The reconnect token is in the body: no Authorization header to miss.
    assert paths[f"{game}/reconnect"]["post"]["security"] == []
    assert paths[f"{game}/state"]["get"]["security"] == [{"bearer": []}]
    game_id = paths[f"{game}/state"]["get"]["parameters"][0]["schema"]
    assert game_id["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    # Bodies the server checks field by field say so, and the create body takes no other key.
    create = paths["/api/games"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["additionalProperties"] is False
    assert create["properties"]["seats"] == {"type": "integer", "minimum": 2, "maximum": 9}


def test_openapi_states_this_servers_bounds_of_a_new_table(api: Api) -> None:
    def create_body(document: dict[str, Any]) -> dict[str, Any]:
        operation = document["paths"]["/api/games"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        properties: dict[str, Any] = schema["properties"]
        return properties

    default = create_body(api.client.get("/openapi.json").json())
    assert default["actionTimeoutMs"]["minimum"] == 1000
    assert default["nextHandDelayMs"]["minimum"] == 1000
    assert default["startingStack"]["maximum"] == 1_000_000
    with running(
        min_action_timeout_ms=0, min_next_hand_delay_ms=250, max_starting_stack=99
    ) as other:
        lowered = create_body(other.client.get("/openapi.json").json())
    assert lowered["actionTimeoutMs"]["minimum"] == 0
    assert lowered["nextHandDelayMs"]["minimum"] == 250
    assert lowered["startingStack"]["maximum"] == 99


def test_unknown_routes_and_methods_answer_json_errors(api: Api) -> None:
    for reply in (api.client.get("/nope"), api.client.post("/api/game/x/nope", json={})):
        assert reply.status_code == 404
        error = reply.json()["error"]
        assert reply.json()["success"] is False
        assert error["code"] in {code.value for code in ErrorCode}
        assert "/openapi.json" in error["message"]
    reply = api.client.get("/api/games")
    assert reply.status_code == 405
    assert reply.json()["success"] is False


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/games", "POST"),
        ("TRACE", "/api/game/{game}/join", "POST"),
        # Two routes share this path; the answer names both.
        ("PUT", "/api/game/{game}/persist", "DELETE, POST"),
        ("GET", "/api/game/{game}/persist", "DELETE, POST"),
        ("PATCH", "/api/game/{game}/state", "GET, HEAD"),
        ("POST", "/api/game/{game}/events", "GET, HEAD"),
        ("DELETE", "/healthz", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_method_not_allowed_says_which_are(api: Api, method: str, path: str, allow: str) -> None:
    game_id = api.create()
    reply = api.client.request(method, path.format(game=game_id))
    assert_error(reply, ErrorCode.INVALID_REQUEST, 405)
    assert reply.headers["allow"] == allow
    assert method in reply.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("POST", "join", False),
        ("POST", "start", True),
        ("POST", "action", True),
        ("GET", "state", True),
        ("GET", "events", True),
        ("GET", "connection-token", True),
        ("POST", "persist", "admin"),
        ("GET", "restore", "admin"),
        ("DELETE", "persist", "admin"),
    ],
)
@pytest.mark.parametrize("game_id", ["no-such-game", "bad.id", "x" * 65, "caf%C3%A9"])
def test_unknown_game_ids_are_game_not_found(
    api: Api, method: str, path: str, auth: bool | str, game_id: str
) -> None:
    headers: dict[str, str] = {}
    if auth == "admin":
        headers = ADMIN_AUTH
    elif auth:
        headers = stranger(api, game_id).auth
    bodies = {"join": {"name": "Ann"}, "action": {"actionId": "a", "type": "call"}}
    reply = api.client.request(
        method, f"/api/game/{game_id}/{path}", json=bodies.get(path), headers=headers
    )
    assert_error(reply, ErrorCode.GAME_NOT_FOUND)


def test_a_store_outage_is_degraded_mode_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "FIRST_RETRY_S", 0.001)
    monkeypatch.setattr(writer_module, "MAX_RETRY_S", 0.002)
    store = DownableStore()
    with running(store) as api:
        players = api.table(2)
        api.start(players[0])
        actor = api.to_act(players)
        store.down = True
        reply = api.act(actor, "call", action_id="during-outage")
        assert reply.status_code == 200, reply.text
        acted = reply.json()
        assert acted["durable"] is False
        health = api.client.get("/healthz").json()
        assert health["status"] == "degraded"
        assert health["storage"] == "unavailable"
        assert health["pendingWrites"] >= 1
        assert api.state(actor)["seq"] == acted["seq"]  # the game goes on in memory
        url = f"/api/game/{actor.game_id}/persist"
        assert_error(api.client.post(url, headers=actor.auth), ErrorCode.STORAGE_UNAVAILABLE)

        store.down = False
        wait_for(
            lambda: api.client.get("/healthz").json()["status"] == "ok",
            timeout=5,
            what="the queue to drain",
            interval=0.005,
        )
        assert api.client.get("/healthz").json()["pendingWrites"] == 0
        again = api.act(actor, "call", action_id="during-outage").json()
        assert again == {**acted, "duplicate": True, "durable": True}
        assert api.client.post(url, headers=actor.auth).status_code == 200


def test_a_full_store_refuses_new_games_until_a_completed_one_can_go() -> None:
    with running(max_games=1) as api:
        first = api.create()
        assert_error(api.client.post("/api/games", json={}), ErrorCode.STORAGE_FULL)
        api.abandon(first)
        second = api.create()  # the completed game made room
        assert second != first
        assert_error(
            api.client.get(f"/api/game/{first}/restore", headers=ADMIN_AUTH),
            ErrorCode.GAME_NOT_FOUND,
        )


# --- request bodies ------------------------------------------------------------------------------

HUGE = b'{"name": "' + b"x" * (70 * 1024) + b'"}'
NOT_AN_OBJECT = [b"{", b'{"name": "Ann"', b"[]", b"[1, 2]", b'"Ann"', b"42", b"true", b"null"]
NOT_AN_OBJECT += [b"\xff\xfe", b'{"name": "\xff"}', b'{"name": "\\ud800"}', b"NaN", b"{}{}"]


def post_endpoints(api: Api) -> list[tuple[str, dict[str, str], bool]]:
    """(url, headers, body optional) of every POST endpoint that reads a body."""
    first, _ = api.table(2)
    game_id = first.game_id
    return [
        ("/api/games", {}, True),
        (f"/api/game/{game_id}/join", {}, False),
        (f"/api/game/{game_id}/action", first.auth, False),
        (f"/api/game/{game_id}/reconnect", {}, False),
        (f"/api/game/{game_id}/persist", first.auth, True),
        (f"/api/game/{game_id}/persist", ADMIN_AUTH, True),
    ]


def test_bodies_that_are_not_a_json_object_are_invalid_request(api: Api) -> None:
    for url, headers, optional in post_endpoints(api):
        for raw in NOT_AN_OBJECT:
            reply = api.client.post(
                url, content=raw, headers={**headers, "Content-Type": "application/json"}
            )
            assert_error(reply, ErrorCode.INVALID_REQUEST)
        empty = api.client.post(url, content=b"", headers=headers)
        if optional:
            assert empty.status_code in (200, 201), empty.text
        else:
            assert_error(empty, ErrorCode.INVALID_REQUEST)


def test_huge_bodies_are_invalid_request(api: Api) -> None:
    for url, headers, _ in post_endpoints(api):
        reply = api.client.post(url, content=HUGE, headers=headers)
        error = assert_error(reply, ErrorCode.INVALID_REQUEST)
        assert "larger than" in error["message"]

        def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for start in range(0, len(HUGE), 8192):
                yield HUGE[start : start + 8192]

        reply = api.client.post(url, content=chunks(), headers=headers)
        assert_error(reply, ErrorCode.INVALID_REQUEST)


def test_a_lying_content_length_is_not_a_500(api: Api) -> None:
    reply = api.client.post(
        "/api/games", content=b"{}", headers={"Content-Length": "99999999999999999999"}
    )
    assert reply.status_code != 500


async def test_a_client_hanging_up_mid_body_is_an_info_line_not_a_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Headers that promise 100 bytes, 10 of them, then the connection closes: the app answers
    nobody and logs one INFO line, not the ERROR (and uvicorn's traceback) of a bug."""
    received: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"seats": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return received.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/games",
        "raw_path": b"/api/games",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    async with running_async() as running:
        with caplog.at_level(logging.INFO, logger="rejoin_server"):
            await running.app(scope, receive, send)  # raises nothing
    records = [r for r in caplog.records if r.name.startswith("rejoin_server")]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", "POST /api/games: the connection closed before the request body arrived")
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- privacy -------------------------------------------------------------------------------------


def hole_cards_of(api: Api, player: Player) -> set[str]:
    view = api.state(player)["gameState"]
    mine = next(s for s in view["seats"] if s["seat"] == player.seat)
    cards = set(mine["holeCards"])
    assert len(cards) == 2
    return cards


def seen_by(api: Api, watcher: Player, client_id: str) -> tuple[set[str], Player]:
    """Every string in everything `watcher` can read: state, events (JSON and SSE), restore,
    and a reconnect's state and missed events; and the watcher after that reconnect."""
    url = f"/api/game/{watcher.game_id}"
    seen: list[object] = [
        api.state(watcher),
        api.events(watcher),
        api.client.get(f"{url}/restore", headers=watcher.auth).json(),
    ]
    token = api.client.get(f"{url}/connection-token", headers=watcher.auth).json()["token"]
    reply = api.reconnect(watcher, token, lastSeq=0, clientId=client_id)
    assert reply.status_code == 200, reply.text
    seen.append(reply.json())
    watcher = replace(watcher, session=reply.json()["sessionToken"])  # the seat's new claim
    seq = api.state(watcher)["seq"]
    with api.client.stream("GET", f"{url}/events", headers=watcher.auth) as stream:
        seen.append(read_frames(stream.iter_lines(), seq))
    return set().union(*(set(strings(value)) for value in seen)), watcher


@pytest.mark.timeout(30)
def test_a_player_never_sees_another_players_hole_cards_before_showdown(api: Api) -> None:
    players = api.table(3)
    api.start(players[0])
    watcher, *others = players
    for checkpoint in ("preflop", "flop"):
        assert api.state(watcher)["gameState"]["phase"] == checkpoint
        secret = set().union(*(hole_cards_of(api, other) for other in others))
        visible, watcher = seen_by(api, watcher, client_id=checkpoint)
        players = [watcher, *others]
        assert not secret & visible, f"{watcher.player_id} saw {secret & visible}"
        assert hole_cards_of(api, watcher) <= visible  # the check does see cards
        while api.state(watcher)["gameState"]["phase"] == checkpoint:  # call or check around
            actor = api.to_act(players)
            legal = {a["type"] for a in api.state(actor)["gameState"]["you"]["legalActions"]}
            assert api.act(actor, "call" if "call" in legal else "check").status_code == 200


@pytest.mark.parametrize(
    "query",
    ["after=", "after=1&after=2", "after=5%0A", "after=-1", "after=1.0", "after=" + "9" * 16],
)
def test_events_after_must_be_one_plain_number(api: Api, query: str) -> None:
    game_id = api.create()
    player = api.join(game_id, "Ann")
    reply = api.client.get(
        f"/api/game/{game_id}/events?{query}",
        headers={**player.auth, "Accept": "application/json"},
    )
    error = assert_error(reply, ErrorCode.INVALID_REQUEST)
    assert "`after`" in error["message"]
