"""Seats of logged-in players, in-process (docs/http-api.md, `POST …/join` with a login and
`POST …/reclaim`): a join needs a login and its subject is the player id; every bad login is
refused with its reason; a subject holds one seat, and taking it back from a second device
supersedes the first (its WebSocket closed with 4409, its tokens refused as after a reconnect
elsewhere). Also the authenticator hook itself (`create_app(authenticate=…)`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from starlette.requests import HTTPConnection

from rejoin_protocol.errors import ErrorCode
from rejoin_server.app import create_app
from rejoin_server.host.host import GameHost
from rejoin_server.login import Identity, LoginRefused
from rejoin_server.settings import ServerSettings
from rejoin_server.tokens.service import CONFLICT_WINDOW_MS

from ..login.support import unsigned
from .support import ADMIN, AsyncApi, Player, assert_error, bearer, memory_store, running_async
from .ws_support import Sockets, hello_frame, resumed, sockets

SECRET = "a-shared-secret-of-forty-characters-xyz!"
AUDIENCE = "rejoin-poker"
LOGIN = {"auth_jwt_secret": SECRET, "auth_jwt_audience": AUDIENCE}
ALICE = "auth0|5f7c8ec7c33c6c004bbafe82"
BOB = "google-oauth2|104711"


def login(subject: str = ALICE, **changes: Any) -> dict[str, str]:
    """The headers of a request carrying a login of `subject` (`changes` to its claims)."""
    claims: dict[str, Any] = {
        "sub": subject,
        "name": subject.split("|", maxsplit=1)[0].title(),
        "aud": AUDIENCE,
        "exp": int(time.time()) + 600,
        **changes,
    }
    return bearer(jwt.encode(claims, SECRET, algorithm="HS256"))


@asynccontextmanager
async def server(**settings: Any) -> AsyncIterator[tuple[AsyncApi, Sockets]]:
    """An app with player login (HS256) on this test's loop, and its sockets."""
    async with running_async(**{**LOGIN, **settings}) as api, sockets(api.app) as ws:
        yield api, ws


async def join(
    api: AsyncApi, game_id: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> httpx.Response:
    return await api.client.post(f"/api/game/{game_id}/join", json=body or {}, headers=headers)


async def reclaim(api: AsyncApi, game_id: str, headers: dict[str, str]) -> httpx.Response:
    return await api.client.post(f"/api/game/{game_id}/reclaim", headers=headers)


def seated(game_id: str, reply: httpx.Response, status: int = 201) -> Player:
    assert reply.status_code == status, reply.text
    data = reply.json()
    assert set(data) == {"playerId", "seat", "sessionToken", "connectionToken"} | (
        {"reclaimed"} if status == 200 else set()
    )
    assert data["connectionToken"]["playerId"] == data["playerId"]
    return Player(
        game_id,
        data["playerId"],
        data["seat"],
        data["sessionToken"],
        data["connectionToken"]["token"],
    )


async def seats(api: AsyncApi, player: Player) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.state(player))["gameState"]["seats"]
    return found


class Clock:
    """The host's clock, moved forward at will (token lifetimes are measured on it)."""

    def __init__(self, host: GameHost) -> None:
        self._real = host.clock
        self.offset = 0
        host.clock = self

    def __call__(self) -> int:
        return self._real() + self.offset


# --- joining with a login ------------------------------------------------------------------------


async def test_a_join_without_a_login_is_unauthorized() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        reply = await join(api, game_id, {}, {"name": "Ann"})
        error = assert_error(reply, ErrorCode.UNAUTHORIZED)
        assert error["details"] == {"reason": "missing"}
        assert "Authorization: Bearer" in error["message"]
        assert reply.headers["WWW-Authenticate"] == "Bearer"
        # Nobody took a seat: the first login gets seat 0.
        assert seated(game_id, await join(api, game_id, login())).seat == 0


async def test_the_seat_is_the_logins_subject_named_by_the_login_or_the_body() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        alice = seated(game_id, await join(api, game_id, login(ALICE)))
        bob = seated(game_id, await join(api, game_id, login(BOB), {"name": "Bobby", "seat": 3}))
        assert (alice.player_id, alice.seat, bob.player_id, bob.seat) == (ALICE, 0, BOB, 3)
        names = {s["playerId"]: s["name"] for s in await seats(api, alice)}
        assert names == {ALICE: "Auth0", BOB: "Bobby"}
        # The session token works as any other: the player's view is theirs.
        assert (await api.state(bob))["gameState"]["you"]["playerId"] == BOB


async def test_a_login_without_a_name_needs_one_in_the_body() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        nameless = bearer(
            jwt.encode({"sub": ALICE, "aud": AUDIENCE, "exp": int(time.time()) + 60}, SECRET)
        )
        error = assert_error(await join(api, game_id, nameless), ErrorCode.INVALID_REQUEST)
        assert "`name` is required" in error["message"]
        assert seated(game_id, await join(api, game_id, nameless, {"name": "Al"})).seat == 0


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (login(exp=int(time.time()) - 3600), "expired"),
        (login(aud="another-app"), "audience"),
        (bearer(jwt.encode({"sub": ALICE, "aud": AUDIENCE, "exp": 2**40}, "x" * 40)), "signature"),
        (bearer(unsigned({"sub": ALICE, "aud": AUDIENCE, "exp": 2**40})), "algorithm"),
        (bearer("not.a.jwt"), "malformed"),
        (login("x" * 64), "subject"),
        (login("urn:alice"), "subject"),
        (login(""), "subject"),
    ],
    ids=["expired", "audience", "signature", "alg-none", "malformed", "long", "colon", "empty"],
)
async def test_a_bad_login_is_refused_with_its_reason(headers: dict[str, str], reason: str) -> None:
    async with server() as (api, _):
        game_id = await api.create()
        for reply in (await join(api, game_id, headers), await reclaim(api, game_id, headers)):
            error = assert_error(reply, ErrorCode.UNAUTHORIZED)
            assert error["details"] == {"reason": reason}


async def test_a_subject_seated_asking_for_another_seat_is_a_seat_conflict() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        alice = seated(game_id, await join(api, game_id, login(), {"seat": 1}))
        error = assert_error(
            await join(api, game_id, login(), {"seat": 2}), ErrorCode.SEAT_CONFLICT
        )
        assert error["details"] == {"seat": 1}
        assert "You already hold seat 1 (numbered from 0)" in error["message"]
        # Nothing changed: one seat, and the first session still holds it.
        assert [s["playerId"] for s in await seats(api, alice)] == [ALICE]


async def test_joining_again_takes_the_seat_back_and_ends_the_older_claim() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        first = seated(game_id, await join(api, game_id, login(), {"seat": 2}))
        again = seated(game_id, await join(api, game_id, login(), {"seat": 2}), 200)
        assert (again.player_id, again.seat) == (ALICE, 2)
        assert (await join(api, game_id, login())).json()["reclaimed"] is True
        newest = seated(game_id, await reclaim(api, game_id, login()), 200)
        assert [s["playerId"] for s in await seats(api, newest)] == [ALICE]
        for older in (first, again):
            reply = await api.client.get(f"/api/game/{game_id}/state", headers=older.auth)
            assert_error(reply, ErrorCode.TOKEN_REUSED)
        # The first device's reconnect token was used up in the login's favour.
        body = {"playerId": ALICE, "reconnectToken": first.reconnect, "clientId": "first"}
        reply = await api.client.post(f"/api/game/{game_id}/reconnect", json=body)
        assert_error(reply, ErrorCode.TOKEN_REUSED)


async def test_two_devices_joining_at_once_share_one_seat() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        replies = await asyncio.gather(*(join(api, game_id, login()) for _ in range(4)))
        assert sorted(r.status_code for r in replies) == [200, 200, 200, 201], [
            r.text for r in replies
        ]
        assert {r.json()["seat"] for r in replies} == {0}
        newest = seated(game_id, await reclaim(api, game_id, login()), 200)
        assert [s["playerId"] for s in await seats(api, newest)] == [ALICE]


# --- taking a seat back from another device ------------------------------------------------------


async def test_reclaim_from_a_second_device_supersedes_the_first() -> None:
    async with server() as (api, ws):
        clock = Clock(api.services.host)
        game_id = await api.create(seats=2, actionTimeoutMs=600_000, autoNextHand=False)
        laptop = seated(game_id, await join(api, game_id, login(ALICE)))
        bob = seated(game_id, await join(api, game_id, login(BOB)))
        old, welcome = await ws.hello(laptop, client_id="laptop")
        held = welcome["token"]["token"]  # the laptop's newest reconnect token

        phone = seated(game_id, await reclaim(api, game_id, login(ALICE)), 200)
        assert (phone.player_id, phone.seat) == (ALICE, laptop.seat)
        frames, close = await old.closed()
        assert frames == []
        assert (close.code, close.reason) == (4409, "superseded")

        # The laptop's token is refused as after a reconnect elsewhere: a conflict for a
        # moment, spent after that.
        close, error = await ws.refused(game_id, hello_frame(laptop, held, client_id="laptop"))
        assert (error["code"], close.code) == ("seat_conflict", 4409)
        clock.offset = CONFLICT_WINDOW_MS + 1
        close, error = await ws.refused(game_id, hello_frame(laptop, held, client_id="laptop"))
        assert (error["code"], close.code) == ("token_reused", 4401)
        reply = await api.client.get(f"/api/game/{game_id}/state", headers=laptop.auth)
        assert_error(reply, ErrorCode.TOKEN_REUSED)

        # The phone plays on, with the token the login gave it.
        new, welcome = await ws.hello(phone, client_id="phone")
        assert welcome["seat"] == laptop.seat
        await api.start(bob)
        while (view := (await api.state(bob))["gameState"])["toAct"] != phone.seat:
            move = {"actionId": uuid.uuid4().hex, "type": "call"}
            reply = await api.client.post(
                f"/api/game/{game_id}/action", json=move, headers=bob.auth
            )
            assert reply.status_code == 200, reply.text
        you = (await api.state(resumed(phone, welcome)))["gameState"]["you"]
        legal = {action["type"] for action in you["legalActions"]}
        move_type = "check" if "check" in legal else "call"
        await new.send_json({"type": "action", "actionId": "p-1", "action": {"type": move_type}})
        _, ack = await new.until("ack")
        assert ack["actionId"] == "p-1"
        assert ack["seq"] > view["seq"]


async def test_reclaim_needs_a_seat_and_a_game_in_play() -> None:
    async with server() as (api, _):
        game_id = await api.create()
        error = assert_error(await reclaim(api, game_id, login()), ErrorCode.PLAYER_NOT_IN_GAME)
        assert "join it" in error["message"]
        seated(game_id, await join(api, game_id, login()))
        await api.services.host.abandon(game_id)
        error = assert_error(await reclaim(api, game_id, login()), ErrorCode.GAME_COMPLETED)
        assert error["details"]["gameState"]["status"] == "completed"
        missing = "0" * 32
        assert_error(await reclaim(api, missing, login()), ErrorCode.GAME_NOT_FOUND)


async def test_without_login_reclaim_is_an_invalid_request_and_joins_are_anonymous() -> None:
    async with running_async() as api:
        game_id = await api.create()
        error = assert_error(await reclaim(api, game_id, login()), ErrorCode.INVALID_REQUEST)
        assert "no player login" in error["message"]
        # A login sent anyway changes nothing: a new player each time.
        players = [
            seated(game_id, await join(api, game_id, login(), {"name": "Ann"})) for _ in "ab"
        ]
        assert players[0].player_id != players[1].player_id != ALICE


# --- the authenticator hook ----------------------------------------------------------------------


async def by_header(conn: HTTPConnection) -> Identity | None:
    """An authenticator of the host application's own: its session header names the player."""
    user = conn.headers.get("x-app-user")
    if user is None:
        return None
    if user == "banned":
        raise LoginRefused("This account is banned from the tables.", "banned")
    return Identity(f"app-{user}", user.title())


@asynccontextmanager
async def hooked() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        ServerSettings(admin_token=ADMIN), store_factory=memory_store, authenticate=by_header
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_an_authenticator_of_ones_own_seats_its_identities() -> None:
    async with hooked() as client:
        game_id = (await client.post("/api/games", json={})).json()["gameId"]
        path = f"/api/game/{game_id}/join"
        reply = await client.post(path, json={}, headers={"X-App-User": "carol"})
        assert reply.status_code == 201, reply.text
        assert reply.json()["playerId"] == "app-carol"
        again = await client.post(f"/api/game/{game_id}/reclaim", headers={"X-App-User": "carol"})
        assert (again.status_code, again.json()["seat"]) == (200, reply.json()["seat"])
        error = assert_error(await client.post(path, json={}), ErrorCode.UNAUTHORIZED)
        assert error["details"] == {"reason": "missing"}
        refused = await client.post(path, json={}, headers={"X-App-User": "banned"})
        error = assert_error(refused, ErrorCode.UNAUTHORIZED)
        assert error == {
            "code": "unauthorized",
            "message": "This account is banned from the tables.",
            "details": {"reason": "banned"},
        }


def test_an_authenticator_and_jwt_settings_together_are_refused() -> None:
    with pytest.raises(ValueError, match="give one of them"):
        create_app(
            ServerSettings(auth_jwt_secret=SECRET, auth_jwt_audience=AUDIENCE),
            store_factory=memory_store,
            authenticate=by_header,
        )


async def test_the_openapi_document_lists_reclaim_where_players_log_in() -> None:
    reclaiming = "/api/game/{gameId}/reclaim"
    async with server() as (api, _):
        paths = (await api.client.get("/openapi.json")).json()["paths"]
        assert paths[reclaiming]["post"]["security"] == [{"login": []}]
    async with running_async() as api:
        assert reclaiming not in (await api.client.get("/openapi.json")).json()["paths"]
