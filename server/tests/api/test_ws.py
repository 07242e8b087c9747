"""The WebSocket channel of docs/protocol.md, in-process: the `hello` handshake and each of its refusals
(error frame and close code), the live stream (events in seq order per visibility, acks behind the
events of their action), the two-socket rules of docs/protocol.md (superseded, seat_conflict), presence, the
heartbeat, token rotation, slow consumers and graceful shutdown.

The sockets are driven through the app's ASGI interface on the test's own loop (`ws_support`);
every wait is for a frame, with a bound, and nothing asserts on how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import ws as ws_module
from rejoin_server.app import create_app
from rejoin_server.host import live as live_module
from rejoin_server.settings import ServerSettings
from rejoin_server.tokens.service import CONFLICT_WINDOW_MS

from .support import (
    ADMIN,
    CARD,
    ISO_MS,
    AsyncApi,
    Clock,
    DownableStore,
    Player,
    assert_error,
    bearer,
    memory_store,
    running_async,
)
from .ws_support import (
    WAIT_S,
    Closed,
    Sockets,
    WsClient,
    hello_frame,
    resumed,
    sockets,
    ws_path,
)

WELCOME_KEYS = {
    "type",
    "playerId",
    "seat",
    "seq",
    "gameState",
    "missedEvents",
    "resync",
    "token",
    "sessionToken",
    "serverTime",
    "epoch",
    "node",
}


@asynccontextmanager
async def server(**settings: Any) -> AsyncIterator[tuple[AsyncApi, Sockets]]:
    """The app on this test's loop (settings as `ServerSettings` takes them), and its sockets."""
    async with running_async(**settings) as api, sockets(api.app) as ws:
        yield api, ws


# --- HTTP calls the AsyncApi does not have -------------------------------------------------------


async def act(
    api: AsyncApi, player: Player, type_: str, amount: int | None = None, action_id: str = ""
) -> httpx.Response:
    body: dict[str, Any] = {"actionId": action_id or uuid.uuid4().hex, "type": type_}
    if amount is not None:
        body["amount"] = amount
    url = f"/api/game/{player.game_id}/action"
    return await api.client.post(url, json=body, headers=player.auth)


async def events_after(api: AsyncApi, player: Player, after: int) -> list[dict[str, Any]]:
    """The events after `after` in `player`'s visibility, as the HTTP API gives them."""
    reply = await api.client.get(
        f"/api/game/{player.game_id}/events?after={after}",
        headers={**player.auth, "Accept": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()["events"]
    return found


async def reconnect(api: AsyncApi, player: Player, token: str, **body: Any) -> httpx.Response:
    payload = {"playerId": player.player_id, "reconnectToken": token, **body}
    return await api.client.post(f"/api/game/{player.game_id}/reconnect", json=payload)


async def to_act(api: AsyncApi, players: list[Player]) -> Player:
    seat = (await api.state(players[0]))["gameState"]["toAct"]
    assert seat is not None, "nobody is to act"
    return next(p for p in players if p.seat == seat)


async def seq_of(api: AsyncApi, player: Player) -> int:
    seq: int = (await api.state(player))["seq"]
    return seq


def stranger(api: AsyncApi, game_id: str, player_id: str = "stranger") -> Player:
    """A player with well-signed tokens for `game_id` (never issued) but no seat in it."""
    signer = api.services.signer
    token = signer.reconnect_token(game_id, player_id, "0" * 32)
    return Player(game_id, player_id, -1, signer.session_token(game_id, player_id, ""), token)


def jti(api: AsyncApi, token: str) -> str:
    return api.services.signer.check_reconnect(token).jti


async def read_events(client: WsClient, through: int) -> list[dict[str, Any]]:
    """Read `event` frames until the one with seq `through`; anything else read fails the test,
    but `presence` (of other players, not sequenced) is passed over."""
    found: list[dict[str, Any]] = []
    while not found or found[-1]["seq"] < through:
        frame = await client.receive()
        if frame["type"] == "presence":
            continue
        assert frame["type"] == "event", frame
        found.append(frame)
    return found


def assert_gapless(frames: list[dict[str, Any]], after: int) -> None:
    """Event frames numbered after+1, after+2, … each carrying its event with the same seq."""
    assert [f["seq"] for f in frames] == list(range(after + 1, after + 1 + len(frames)))
    for frame in frames:
        assert set(frame) == {"type", "seq", "event"}
        assert frame["event"]["seq"] == frame["seq"]


def assert_hole_cards_only_mine(events: list[dict[str, Any]], player: Player) -> None:
    holes = [e for e in events if e["kind"] == "hole_cards"]
    assert holes, "no hole_cards event to look at"
    for event in holes:
        cards = event["data"]["cards"]
        if event["data"]["playerId"] == player.player_id:
            assert isinstance(cards, list)
            assert len(cards) == 2
            assert all(CARD.match(card) for card in cards)
        else:
            assert cards is None


# --- hello → welcome -----------------------------------------------------------------------------


async def test_hello_is_welcomed_with_the_seat_the_view_and_the_missed_events() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        await api.start(first)
        seq = await seq_of(api, first)
        client, welcome = await ws.hello(first, client_id="tab-1", last_seq=0)
        assert set(welcome) == WELCOME_KEYS
        assert welcome["playerId"] == first.player_id
        assert welcome["seat"] == first.seat
        assert welcome["seq"] == seq
        assert welcome["resync"] is False
        assert isinstance(welcome["serverTime"], int)

        # The view is the player's own: their cards, not the other's; and them connected.
        view = welcome["gameState"]
        assert view["seq"] == seq
        assert view["you"]["playerId"] == first.player_id
        seats = {s["playerId"]: s for s in view["seats"]}
        mine = seats[first.player_id]["holeCards"]
        assert isinstance(mine, list)
        assert len(mine) == 2
        assert all(CARD.match(card) for card in mine)
        assert seats[second.player_id]["holeCards"] is None
        assert seats[first.player_id]["connected"] is True
        assert view == (await api.state(resumed(first, welcome)))["gameState"]

        # Every event after lastSeq, gapless, in this player's visibility: the other seat's
        # hole cards are there (same seq) but redacted.
        missed = welcome["missedEvents"]
        assert [e["seq"] for e in missed] == list(range(1, seq + 1))
        assert missed == await events_after(api, resumed(first, welcome), 0)
        assert_hole_cards_only_mine(missed, first)
        theirs = await events_after(api, second, 0)
        assert [e["seq"] for e in theirs] == [e["seq"] for e in missed]
        assert missed != theirs  # each sees a different pair of cards

        # A new reconnect token; the session token works.
        token = welcome["token"]
        assert set(token) == {"token", "expiresAt"}
        assert ISO_MS.match(token["expiresAt"])
        assert token["token"] != first.reconnect
        claims = api.services.signer.check_reconnect(token["token"])
        assert (claims.game_id, claims.player_id) == (first.game_id, first.player_id)
        reply = await api.client.get(
            f"/api/game/{first.game_id}/state", headers=bearer(welcome["sessionToken"])
        )
        assert reply.status_code == 200
        assert await client.roundtrip() == []


async def test_the_hello_token_is_consumed() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        clock = Clock(api.services.host)
        _, welcome = await ws.hello(player, client_id="tab-1", last_seq=0)
        successor = welcome["token"]["token"]
        # The same client retrying (its welcome was lost) is led to the same successor …
        retry = await reconnect(api, player, player.reconnect, clientId="tab-1", lastSeq=0)
        assert retry.status_code == 200, retry.text
        assert jti(api, retry.json()["connectionToken"]["token"]) == jti(api, successor)
        # … anyone else right after is racing for the seat, and later is replaying a used token.
        assert_error(
            await reconnect(api, player, player.reconnect, clientId="tab-2"),
            ErrorCode.SEAT_CONFLICT,
        )
        clock.offset = CONFLICT_WINDOW_MS + 1_000
        assert_error(
            await reconnect(api, player, player.reconnect, clientId="tab-2"),
            ErrorCode.TOKEN_REUSED,
        )
        close, error = await ws.refused(
            player.game_id, hello_frame(player, player.reconnect, client_id="tab-2")
        )
        assert (error["code"], close.code) == ("token_reused", 4401)


async def test_welcome_replays_only_what_came_after_last_seq() -> None:
    async with server() as (api, ws):
        first, _ = await api.table(2)
        await api.start(first)
        seq = await seq_of(api, first)
        _, welcome = await ws.hello(first, last_seq=2)
        assert welcome["resync"] is False
        assert [e["seq"] for e in welcome["missedEvents"]] == list(range(3, seq + 1))
        assert welcome["missedEvents"] == await events_after(api, resumed(first, welcome), 2)
        _, welcome = await ws.hello(first, welcome["token"]["token"], last_seq=seq)
        assert (welcome["missedEvents"], welcome["resync"]) == ([], False)


async def test_welcome_is_a_resync_without_last_seq_past_the_end_or_past_the_replay_limit() -> None:
    async with server(replay_limit=3) as (api, ws):
        first, _ = await api.table(2)
        await api.start(first)
        seq = await seq_of(api, first)
        assert seq > 4
        token = first.reconnect
        for last_seq in (None, seq + 1, seq - 4, 0):
            _, welcome = await ws.hello(first, token, last_seq=last_seq)
            assert (welcome["missedEvents"], welcome["resync"]) == ([], True), last_seq
            assert welcome["seq"] == welcome["gameState"]["seq"] == seq
            token = welcome["token"]["token"]
        _, welcome = await ws.hello(first, token, last_seq=seq - 3)
        assert welcome["resync"] is False
        assert [e["seq"] for e in welcome["missedEvents"]] == [seq - 2, seq - 1, seq]


# --- refusals at hello ---------------------------------------------------------------------------


async def test_protocol_errors_at_hello_close_with_4400_and_leave_the_token_unused() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        good = hello_frame(player)
        game = player.game_id
        for frame in (
            {"type": "ping", "t": 1},  # not hello first
            {"type": "action", "actionId": "a", "action": {"type": "check"}},
            {**good, "protocol": 2},
            {**good, "lastSeq": "3"},
            {**good, "token": ""},
            {**good, "type": "welcome"},  # a server message
            {"playerId": player.player_id},
        ):
            close, error = await ws.refused(game, frame)
            assert (error["code"], close.code) == ("invalid_request", 4400), frame
            assert close.reason == "invalid_request"
        for raw in ("{", "[]", "null", "hello"):
            client = await ws.connect(game)
            await client.send_text(raw)
            frames, close = await client.closed()
            assert [f["code"] for f in frames] == ["invalid_request"], raw
            assert close.code == 4400
        client = await ws.connect(game)
        await client.send_bytes(b"\xff\xfe")
        frames, close = await client.closed()
        assert ([f["code"] for f in frames], close.code) == (["invalid_request"], 4400)
        close, error = await ws.refused(game, {**good, "protocol": 2})
        assert "protocol" in error["message"]
        # None of these used the token up.
        client, _ = await ws.hello(player)
        assert await client.roundtrip() == []


async def test_a_ping_before_hello_is_answered_as_a_probe_and_counted_apart() -> None:
    """How the SDK's `transport="auto"` asks whether a WebSocket gets through (`rejoin.ws_probe`):
    a `ping` where the server wants `hello`. Refused like any other first frame (an `error` is
    the answer), counted as `probe`, not as a client breaking the protocol."""
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        metric = api.services.metrics.registry.get_sample_value
        close, error = await ws.refused(player.game_id, {"type": "ping", "t": 0})
        assert (error["code"], close.code) == ("invalid_request", 4400)
        assert metric("rejoin_reconnects_total", {"outcome": "probe"}) == 1
        assert metric("rejoin_reconnects_total", {"outcome": "invalid_request"}) is None
        await ws.refused(player.game_id, {"type": "pong", "t": 0})
        assert metric("rejoin_reconnects_total", {"outcome": "invalid_request"}) == 1


async def test_a_socket_that_never_says_hello_is_closed_with_4400(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ws_module, "HELLO_TIMEOUT_S", 0.05)
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        close, error = await ws.refused(player.game_id, None)
        assert (error["code"], close.code) == ("invalid_request", 4400)
        assert "hello" in error["message"]


async def test_token_and_seat_refusals_at_hello() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        game = first.game_id
        elsewhere = await api.join(await api.create(), "Zed")
        nobody = stranger(api, game)
        forged = api.services.signer.reconnect_token(game, first.player_id, "0" * 32)
        cases: list[tuple[dict[str, Any], str, int]] = [
            (hello_frame(first, forged), "token_invalid", 4401),  # signed, never issued
            (hello_frame(first, first.reconnect[:-3] + "AAA"), "token_invalid", 4401),
            (hello_frame(first, "garbage"), "token_invalid", 4401),
            (hello_frame(first, elsewhere.reconnect), "forbidden", 4403),  # another game's
            (hello_frame(first, second.reconnect), "forbidden", 4403),  # another player's
            (hello_frame(nobody), "player_not_in_game", 4403),
            (hello_frame(nobody, first.reconnect), "forbidden", 4403),
        ]
        for frame, code, close_code in cases:
            close, error = await ws.refused(game, frame)
            assert (error["code"], close.code, close.reason) == (code, close_code, code), frame
            assert "actionId" not in error
        # None of the refusals used a token up.
        for player in (first, second):
            client, _ = await ws.hello(player)
            await client.hang_up()


async def test_an_unknown_or_malformed_game_id_is_4404() -> None:
    async with server() as (api, ws):
        first = (await api.table(1))[0]
        unknown = stranger(api, "no-such-game", first.player_id)
        close, error = await ws.refused("no-such-game", hello_frame(unknown))
        assert (error["code"], close.code) == ("game_not_found", 4404)
        # A path that cannot be a game id is refused before any hello.
        for bad in ("bad!id", "x" * 65, "%C3%A9"):
            close, error = await ws.refused(bad, None)
            assert (error["code"], close.code) == ("game_not_found", 4404), bad


async def test_an_expired_token_is_4401_token_expired() -> None:
    async with server(token_ttl_ms=1_000) as (api, ws):
        player = (await api.table(1))[0]
        Clock(api.services.host).offset = 2_000
        close, error = await ws.refused(player.game_id, hello_frame(player))
        assert (error["code"], close.code) == ("token_expired", 4401)


async def test_a_completed_game_is_4410_with_the_final_state() -> None:
    async with server() as (api, ws):
        first, _ = await api.table(2)
        await api.start(first)
        await api.services.host.abandon(first.game_id)
        close, error = await ws.refused(first.game_id, hello_frame(first, last_seq=0))
        assert (error["code"], close.code) == ("game_completed", 4410)
        view = error["details"]["gameState"]
        assert view["status"] == "completed"
        assert view["you"]["playerId"] == first.player_id
        mine = next(s for s in view["seats"] if s["playerId"] == first.player_id)
        assert mine["holeCards"] is not None


# --- the live stream -----------------------------------------------------------------------------


async def test_events_after_the_welcome_arrive_in_order_in_each_players_visibility() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        sockets_ = {}
        welcomes = {}
        for player in (first, second):
            sockets_[player.player_id], welcomes[player.player_id] = await ws.hello(player)
        started = await api.start(resumed(second, welcomes[second.player_id]))
        for player in (first, second):
            after = welcomes[player.player_id]["seq"]
            frames = await read_events(sockets_[player.player_id], started["seq"])
            assert_gapless(frames, after)
            streamed = [f["event"] for f in frames]
            now = resumed(player, welcomes[player.player_id])
            assert streamed == await events_after(api, now, after)
            assert_hole_cards_only_mine(streamed, player)


async def test_an_action_is_acked_after_its_events_and_a_resend_is_a_duplicate() -> None:
    async with server() as (api, ws):
        players = await api.table(2)
        started = await api.start(players[0])
        actor = await to_act(api, players)
        other = next(p for p in players if p is not actor)
        client, welcome = await ws.hello(actor)
        actor = resumed(actor, welcome)
        watcher, _ = await ws.hello(other)
        assert welcome["seq"] == started["seq"]

        await client.send_json({"type": "action", "actionId": "call-1", "action": {"type": "call"}})
        before, ack = await client.until("ack")
        assert ack == {
            "type": "ack",
            "actionId": "call-1",
            "seq": ack["seq"],
            "duplicate": False,
            "durable": True,
        }
        assert ack["seq"] == await seq_of(api, actor) > started["seq"]
        # Every event of the action came before its ack.
        before = [f for f in before if f["type"] != "presence"]
        assert_gapless(before, started["seq"])
        assert before[-1]["seq"] == ack["seq"]
        assert before[0]["event"]["kind"] == "action"
        assert [f["seq"] for f in await read_events(watcher, ack["seq"])] == [
            f["seq"] for f in before
        ]

        # The same actionId again: the first answer, and nothing happens twice.
        await client.send_json({"type": "action", "actionId": "call-1", "action": {"type": "call"}})
        before, again = await client.until("ack")
        assert before == []
        assert again == {**ack, "duplicate": True}
        assert await seq_of(api, actor) == ack["seq"]
        assert await watcher.roundtrip() == []


async def test_the_same_action_id_over_http_and_the_socket_is_one_action() -> None:
    async with server() as (api, ws):
        players = await api.table(2)
        await api.start(players[0])
        actor = await to_act(api, players)
        client, welcome = await ws.hello(actor)
        actor = resumed(actor, welcome)
        reply = await act(api, actor, "call", action_id="same")
        assert reply.status_code == 200, reply.text
        seq = reply.json()["seq"]
        await client.send_json({"type": "action", "actionId": "same", "action": {"type": "call"}})
        before, ack = await client.until("ack")
        assert (ack["seq"], ack["duplicate"]) == (seq, True)
        assert [f["seq"] for f in before if f["type"] == "event"][-1] == seq
        assert await seq_of(api, actor) == seq


async def test_a_refused_action_is_an_error_naming_it_and_the_connection_stays() -> None:
    async with server() as (api, ws):
        players = await api.table(2)
        started = await api.start(players[0])
        actor = await to_act(api, players)
        other = next(p for p in players if p is not actor)
        client, welcome = await ws.hello(actor)
        actor = resumed(actor, welcome)
        idle, _ = await ws.hello(other)
        await client.until("presence")

        cases: list[tuple[WsClient, dict[str, Any], str]] = [
            (client, {"actionId": "a1", "action": {"type": "call"}, "atSeq": 1}, "stale_state"),
            (idle, {"actionId": "a2", "action": {"type": "check"}}, "not_your_turn"),
            (
                client,
                {"actionId": "a3", "action": {"type": "raise", "amount": "x"}},
                "invalid_request",
            ),
            (client, {"actionId": "a4", "action": {"type": "shove"}}, "invalid_action"),
            (
                client,
                {"actionId": "a5", "action": {"type": "raise", "amount": 1}},
                "invalid_action",
            ),
            (
                client,
                {"actionId": "a6", "action": {"type": "call"}, "atSeq": -1},
                "invalid_request",
            ),
            # Fields the store could not write, a type longer than any game's: refused first.
            (client, {"actionId": "a8", "action": {"type": "call", "n": 2**70}}, "invalid_request"),
            (client, {"actionId": "a9", "action": {"type": "x" * 33}}, "invalid_request"),
        ]
        for socket, body, code in cases:
            await socket.send_json({"type": "action", **body})
            before, error = await socket.until("error")
            assert before == []
            assert (error["code"], error["actionId"]) == (code, body["actionId"]), body
            assert error["message"]
            assert await socket.roundtrip() == []
        # The malformed fields are named.
        await client.send_json(
            {"type": "action", "actionId": "a7", "action": {"type": "raise", "amount": "x"}}
        )
        _, error = await client.until("error")
        assert "action.action.amount" in error["message"]
        await client.send_json({"type": "action", "actionId": "x" * 65, "action": {"type": "call"}})
        _, error = await client.until("error")
        assert error["code"] == "invalid_request"
        assert "actionId" in error["message"]
        assert "actionId" not in error  # a cut id would name an action never sent
        # Nothing of that moved the game; a good action still goes through.
        assert await seq_of(api, actor) == started["seq"]
        await client.send_json(
            {
                "type": "action",
                "actionId": "a1",
                "action": {"type": "call"},
                "atSeq": started["seq"],
            }
        )
        _, ack = await client.until("ack")
        assert ack["duplicate"] is False


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "{}",
        '{"type": 5}',
        '{"type": "welcome"}',
        '{"type": "nonsense"}',
        "[1, 2]",
    ],
)
async def test_a_frame_that_is_not_a_message_after_the_welcome_closes_with_4400(
    frame: str,
) -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        client, _ = await ws.hello(player)
        await client.send_text(frame)
        frames, close = await client.closed()
        assert [(f["type"], f["code"]) for f in frames] == [("error", "invalid_request")]
        assert close.code == 4400


async def test_a_second_hello_closes_with_4400() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        client, welcome = await ws.hello(player)
        await client.send_json(hello_frame(player, welcome["token"]["token"]))
        frames, close = await client.closed()
        assert [(f["type"], f["code"]) for f in frames] == [("error", "invalid_request")]
        assert "hello" in frames[0]["message"]
        assert close.code == 4400
        # It did not use the token it carried: that still opens the seat.
        await ws.hello(player, welcome["token"]["token"])


async def test_ping_is_answered_with_pong_carrying_the_same_t() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        client, _ = await ws.hello(player)
        for t in (0, 12.5, 1_700_000_000_000):
            assert await client.roundtrip(t) == []
        # A pong from the client needs no answer.
        await client.send_json({"type": "pong", "t": 3})
        assert await client.roundtrip() == []


# --- two sockets for one seat --------------------------------------------------------------------


async def test_a_hello_with_the_newest_token_supersedes_the_older_socket() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        watcher, watching = await ws.hello(second)
        second = resumed(second, watching)
        old, welcome = await ws.hello(first, client_id="laptop")
        assert await watcher.until("presence") == (
            [],
            {"type": "presence", "playerId": first.player_id, "connected": True},
        )
        new, _ = await ws.hello(first, welcome["token"]["token"], client_id="phone")
        frames, close = await old.closed()
        assert frames == []
        assert (close.code, close.reason) == (4409, "superseded")
        assert await new.roundtrip() == []
        # The seat never stood empty: the other player saw no presence change.
        assert await watcher.roundtrip() == []
        seats = (await api.state(second))["gameState"]["seats"]
        assert next(s for s in seats if s["playerId"] == first.player_id)["connected"] is True


async def test_the_same_used_token_from_another_client_is_a_seat_conflict() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        winner, welcome = await ws.hello(player, client_id="tab-1")
        close, error = await ws.refused(player.game_id, hello_frame(player, client_id="tab-2"))
        assert (error["code"], close.code, close.reason) == ("seat_conflict", 4409, "seat_conflict")
        assert await winner.roundtrip() == []
        # The winner retrying with the same token (its welcome lost) is welcomed with the same
        # successor; the newer socket then holds the seat.
        retry, again = await ws.hello(player, client_id="tab-1")
        assert jti(api, again["token"]["token"]) == jti(api, welcome["token"]["token"])
        _, close = await winner.closed()
        assert (close.code, close.reason) == (4409, "superseded")
        assert await retry.roundtrip() == []


# --- presence ------------------------------------------------------------------------------------


async def test_presence_of_other_players_and_the_connected_flags() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        watcher, welcome = await ws.hello(first)
        flags = {s["playerId"]: s["connected"] for s in welcome["gameState"]["seats"]}
        assert flags == {first.player_id: True, second.player_id: False}

        first = resumed(first, welcome)
        joiner, welcome = await ws.hello(second)
        flags = {s["playerId"]: s["connected"] for s in welcome["gameState"]["seats"]}
        assert flags == {first.player_id: True, second.player_id: True}
        assert await watcher.receive() == {
            "type": "presence",
            "playerId": second.player_id,
            "connected": True,
        }
        # Not told about themselves.
        assert await joiner.roundtrip() == []

        await joiner.hang_up()
        assert await watcher.receive() == {
            "type": "presence",
            "playerId": second.player_id,
            "connected": False,
        }
        flags = {
            s["playerId"]: s["connected"] for s in (await api.state(first))["gameState"]["seats"]
        }
        assert flags == {first.player_id: True, second.player_id: False}


# --- heartbeat -----------------------------------------------------------------------------------


async def test_a_silent_client_is_closed_with_4408_after_pings() -> None:
    async with server(ping_interval_ms=50, idle_timeout_ms=300) as (api, ws):
        player = (await api.table(1))[0]
        client, _ = await ws.hello(player)
        pings, close = await pings_until_closed(client, most=5 * 300 // 50)
        assert pings >= 1
        assert (close.code, close.reason) == (4408, "heartbeat timeout")


async def pings_until_closed(client: WsClient, most: int) -> tuple[int, Closed]:
    """Read pings (nothing else may come) until the close; fail after `most` of them. The server
    pings at most once per interval, so `most` pings measure time on the server's own clock."""
    for pings in range(most + 1):
        try:
            ping = await client.receive(skip=())
        except Closed as close:
            return pings, close
        assert ping["type"] == "ping", ping
        assert isinstance(ping["t"], int)
    raise AssertionError(f"still open after {most} pings")


async def test_a_client_that_answers_pings_stays_past_the_idle_timeout() -> None:
    # The idle timeout is many intervals long, so a loaded machine stalling the loop for a while
    # between a ping and its pong does not look like a silent client.
    async with server(ping_interval_ms=20, idle_timeout_ms=1_000) as (api, ws):
        player = (await api.table(1))[0]
        client, _ = await ws.hello(player)
        # The server pings at most once per interval: after this many pings, more than the idle
        # timeout has passed on its clock.
        for _ in range(3 * 1_000 // 20 // 2):
            ping = await client.receive(skip=())
            assert ping["type"] == "ping", ping
            await client.send_json({"type": "pong", "t": ping["t"]})
        assert await client.roundtrip() == []


# --- token rotation ------------------------------------------------------------------------------


async def test_a_fresh_token_is_pushed_once_half_the_lifetime_is_gone() -> None:
    ttl = 60_000
    async with server(ping_interval_ms=50, idle_timeout_ms=10_000, token_ttl_ms=ttl) as (api, ws):
        player = (await api.table(1))[0]
        clock = Clock(api.services.host)
        client, welcome = await ws.hello(player, client_id="tab-1")
        given = welcome["token"]["token"]
        # Beats with the token young: no token message.
        for _ in range(3):
            assert (await client.receive(skip=()))["type"] == "ping"
        clock.offset = ttl // 2 + 1_000
        _, pushed = await client.until("token")
        assert set(pushed) == {"type", "token", "expiresAt", "sessionToken"}
        # A fresh session token of the same claim: the welcome's still works too.
        for session in (pushed["sessionToken"], welcome["sessionToken"]):
            reply = await api.client.get(
                f"/api/game/{player.game_id}/state", headers=bearer(session)
            )
            assert reply.status_code == 200, reply.text
        assert ISO_MS.match(pushed["expiresAt"])
        assert pushed["expiresAt"] > welcome["token"]["expiresAt"]
        fresh = pushed["token"]
        assert jti(api, fresh) != jti(api, given)
        assert await client.roundtrip() == []

        # The pushed token opens the seat; the one it replaced is spent.
        newer, _ = await ws.hello(player, fresh, client_id="tab-1")
        _, close = await client.closed()
        assert close.code == 4409
        close, error = await ws.refused(
            player.game_id, hello_frame(player, given, client_id="tab-1")
        )
        assert (error["code"], close.code) == ("token_reused", 4401)
        assert await newer.roundtrip() == []


# --- slow consumers and shutdown -----------------------------------------------------------------


async def test_a_reader_too_far_behind_is_closed_with_1013_and_the_table_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with server() as (api, ws):
        slow_player, other = await api.table(2)
        # Only the slow socket gets a tiny queue: the burst of events that deals a hand is
        # published in one go, before its writer can run, so it overflows every time.
        with monkeypatch.context() as patch:
            patch.setattr(live_module, "SUBSCRIBER_QUEUE", 2)
            slow, slow_welcome = await ws.hello(slow_player)
        fine, fine_welcome = await ws.hello(other)
        slow_player, other = resumed(slow_player, slow_welcome), resumed(other, fine_welcome)
        started = await api.start(other)
        assert started["seq"] - slow_welcome["seq"] > 2

        frames, close = await slow.closed()
        events = [f for f in frames if f["type"] == "event"]
        assert_gapless(events, slow_welcome["seq"])
        assert len(events) < started["seq"] - slow_welcome["seq"]
        assert close.code == 1013

        # The others are unaffected and the table goes on.
        dealt = await read_events(fine, started["seq"])
        assert_gapless(dealt, fine_welcome["seq"])
        actor = await to_act(api, [slow_player, other])
        reply = await act(api, actor, "call")
        assert reply.status_code == 200, reply.text
        seq = reply.json()["seq"]
        assert_gapless(await read_events(fine, seq), started["seq"])

        # The slow one resumes from the last event it got.
        last = events[-1]["seq"] if events else slow_welcome["seq"]
        _, welcome = await ws.hello(slow_player, slow_welcome["token"]["token"], last_seq=last)
        assert [e["seq"] for e in welcome["missedEvents"]] == list(range(last + 1, seq + 1))


async def test_graceful_shutdown_closes_every_socket_with_1012() -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        clients = [(await ws.hello(player))[0] for player in (first, second)]
        api.services.host.begin_shutdown()
        for client in clients:
            _, close = await client.closed(skip=("ping", "presence"))
            assert close.code == 1012


async def test_a_hello_after_shutdown_began_is_closed_with_1012() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        api.services.host.begin_shutdown()
        client = await ws.connect(player.game_id)
        await client.send_json(hello_frame(player))
        # Welcomed or refused, this socket must not outlive the shutdown that is under way.
        _, close = await client.closed()
        assert close.code == 1012


# --- more of the live stream ---------------------------------------------------------------------


async def test_frames_sent_right_behind_the_hello_are_served_after_the_welcome() -> None:
    async with server() as (api, ws):
        players = await api.table(2)
        started = await api.start(players[0])
        actor = await to_act(api, players)
        client = await ws.connect(actor.game_id)
        await client.send_json(hello_frame(actor))
        await client.send_json({"type": "ping", "t": 1})
        await client.send_json({"type": "action", "actionId": "piped", "action": {"type": "call"}})
        welcome = await client.receive()
        assert (welcome["type"], welcome["seq"]) == ("welcome", started["seq"])
        assert await client.receive() == {"type": "pong", "t": 1}
        before, ack = await client.until("ack")
        assert_gapless(before, started["seq"])
        assert (ack["actionId"], ack["seq"]) == ("piped", before[-1]["seq"])


async def test_while_the_store_is_down_acks_say_not_durable_and_events_still_flow() -> None:
    store = DownableStore()
    async with running_async(store) as api, sockets(api.app) as ws:
        players = await api.table(2)
        started = await api.start(players[0])
        actor = await to_act(api, players)
        client, _ = await ws.hello(actor)
        store.down = True
        await client.send_json({"type": "action", "actionId": "d1", "action": {"type": "call"}})
        before, ack = await client.until("ack")
        assert_gapless(before, started["seq"])
        assert (ack["seq"], ack["duplicate"], ack["durable"]) == (before[-1]["seq"], False, False)
        # Back up, so that the shutdown at the end stores the queue instead of waiting for it.
        store.down = False


async def test_a_lost_token_push_is_recovered_with_the_previous_token_and_the_same_client() -> None:
    ttl = 60_000
    async with server(ping_interval_ms=50, idle_timeout_ms=10_000, token_ttl_ms=ttl) as (api, ws):
        player = (await api.table(1))[0]
        clock = Clock(api.services.host)
        client, welcome = await ws.hello(player, client_id="tab-1")
        clock.offset = ttl // 2 + 1_000
        _, pushed = await client.until("token")
        # The push never reached the client: it resumes with the token its welcome gave it and
        # is led to the pushed token, not locked out.
        _, again = await ws.hello(player, welcome["token"]["token"], client_id="tab-1")
        assert jti(api, again["token"]["token"]) == jti(api, pushed["token"])
        _, close = await client.closed()
        assert (close.code, close.reason) == (4409, "superseded")
        # Another client cannot do the same.
        close, error = await ws.refused(
            player.game_id, hello_frame(player, welcome["token"]["token"], client_id="tab-2")
        )
        assert (error["code"], close.code) == ("seat_conflict", 4409)


# --- over a real server and a real client --------------------------------------------------------


@asynccontextmanager
async def uvicorn_serving(**settings: Any) -> AsyncIterator[tuple[str, Starlette]]:
    """The app behind uvicorn on a free loopback port, on this test's loop: its base URL and it."""
    settings.setdefault("admin_token", ADMIN)
    app = create_app(ServerSettings(**settings), store_factory=memory_store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", ws_ping_interval=None, ws_ping_timeout=None
    )
    served = uvicorn.Server(config)
    # `startup`/`shutdown` rather than `serve`, which would install signal handlers in pytest.
    config.load()
    served.lifespan = config.lifespan_class(config)
    await served.startup(sockets=[sock])
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        await served.shutdown(sockets=[sock])
        sock.close()


async def test_over_uvicorn_and_the_websockets_client() -> None:
    async with uvicorn_serving() as (address, _):
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            reply = await http.post("/api/games", json={})
            game_id = reply.json()["gameId"]
            joined = (await http.post(f"/api/game/{game_id}/join", json={"name": "Ann"})).json()
        player = Player(
            game_id,
            joined["playerId"],
            joined["seat"],
            joined["sessionToken"],
            joined["connectionToken"]["token"],
        )
        url = f"ws://{address}{ws_path(game_id)}"
        async with asyncio.timeout(WAIT_S):
            async with websockets.connect(url) as socket_:
                await socket_.send(json.dumps(hello_frame(player, client_id="real")))
                welcome = json.loads(await socket_.recv())
                assert (welcome["type"], welcome["playerId"]) == ("welcome", player.player_id)
                await socket_.send(json.dumps({"type": "ping", "t": 5}))
                assert json.loads(await socket_.recv()) == {"type": "pong", "t": 5}

                # A second client racing with the same token is refused on the wire.
                async with websockets.connect(url) as other:
                    await other.send(json.dumps(hello_frame(player, client_id="other")))
                    error = json.loads(await other.recv())
                    assert error["code"] == "seat_conflict"
                    with pytest.raises(websockets.ConnectionClosed) as refused:
                        await other.recv()
                    assert refused.value.rcvd is not None
                    assert (refused.value.rcvd.code, refused.value.rcvd.reason) == (
                        4409,
                        "seat_conflict",
                    )

                # The newest token supersedes the first socket: 4409 "superseded" on the wire.
                async with websockets.connect(url) as newer:
                    await newer.send(json.dumps(hello_frame(player, welcome["token"]["token"])))
                    assert json.loads(await newer.recv())["type"] == "welcome"
                    with pytest.raises(websockets.ConnectionClosed) as superseded:
                        await socket_.recv()
                    assert superseded.value.rcvd is not None
                    assert (superseded.value.rcvd.code, superseded.value.rcvd.reason) == (
                        4409,
                        "superseded",
                    )
