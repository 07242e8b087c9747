"""Player login on a real server (`--auth-jwt-secret`), with SDK clients over real WebSockets:
Alice joins on her laptop with her login, then takes her seat back on her phone with her login
alone; the laptop's socket is closed with 4409 `superseded` and its saved token is refused, and
the phone plays on. On SQLite and PostgreSQL (the seat's token is used up in the store)."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import jwt

from e2e.support.spawn import Spawn
from rejoin.client import GameClient
from rejoin.errors import SessionFailedError
from rejoin.tokens import MemoryTokenStore
from rejoin_testkit.api import Api

SECRET = secrets.token_urlsafe(32)  # shared with the "identity provider" of this test
AUDIENCE = "rejoin-e2e"
ALICE = "auth0|alice-0001"
BOB = "auth0|bob-0002"
WAIT_S = 20.0


def login(subject: str, name: str) -> str:
    """The JWT an identity provider sharing `SECRET` would issue to `subject`."""
    claims = {"sub": subject, "name": name, "aud": AUDIENCE, "exp": int(time.time()) + 600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def until_failed(client: GameClient) -> SessionFailedError:
    """Read the client's events until its session fails for good."""
    try:
        async with asyncio.timeout(WAIT_S):
            async for _ in client.events():
                pass
    except SessionFailedError as failure:
        return failure
    raise AssertionError("the session ended without failing")


async def test_a_player_takes_their_seat_to_another_device_with_their_login(
    spawn: Spawn, db_url: str
) -> None:
    server = spawn(db_url, "--auth-jwt-secret", SECRET, "--auth-jwt-audience", AUDIENCE)
    api = Api(server.url)
    try:
        game = api.create_game(seats=2, actionTimeoutMs=600_000, autoNextHand=False).ok(201)
        game_id = game["gameId"]
        # Without a login there is no seat.
        assert api.join(game_id, "Mallory").error("unauthorized")["details"] == {
            "reason": "missing"
        }

        laptop_store = MemoryTokenStore()
        laptop = GameClient(server.url, game_id, store=laptop_store)
        bob = GameClient(server.url, game_id)
        phone = GameClient(server.url, game_id)
        try:
            seat = await laptop.join("Alice", login=login(ALICE, "Alice"))
            assert seat.player_id == ALICE
            await bob.join("Bob", login=login(BOB, "Bob"))
            await laptop.connect()
            await bob.connect()

            # The phone has no token, only Alice's login: it takes her seat back.
            taken = await phone.join("Alice", login=login(ALICE, "Alice"))
            assert (taken.player_id, phone.seat) == (ALICE, laptop.seat)
            failure = await until_failed(laptop)
            assert (failure.code, failure.close_code) == ("superseded", 4409)
            saved = laptop_store.load(game_id)
            assert saved is not None
            refused = api.reconnect(game_id, ALICE, saved.reconnect_token, client_id="laptop")
            refused.error("seat_conflict", "token_reused")

            # The phone plays on.
            await phone.connect()
            assert phone.status == "connected"
            bob_session = bob.session_token
            assert bob_session is not None
            api.start(game_id, bob_session).ok(200)
            await play_one_move_as(phone, bob, api, game_id)
        finally:
            for client in (laptop, bob, phone):
                await client.close()
    finally:
        api.close()


async def play_one_move_as(phone: GameClient, bob: GameClient, api: Api, game_id: str) -> None:
    """Bob calls until it is the phone's turn; then the phone checks or calls, acknowledged."""

    def view(client: GameClient) -> dict[str, Any]:
        session = client.session_token
        assert session is not None
        state: dict[str, Any] = api.state(game_id, session).ok(200)["gameState"]
        return state

    for _ in range(4):
        state = view(phone)
        if state["toAct"] == phone.seat:
            legal = {action["type"] for action in state["you"]["legalActions"]}
            result = await phone.act("check" if "check" in legal else "call")
            assert result.seq > state["seq"]
            return
        await bob.act("call")
    raise AssertionError("the phone was never to act")
