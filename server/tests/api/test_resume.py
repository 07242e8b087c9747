"""One resume path, two transports: a `hello` and a `POST …/reconnect` with the same inputs give
the same answer (`api/resume.py`).

Each refusal is made over both transports against one server, and must be the same error (code,
message, details), with that code's HTTP status over HTTP and its `hello` close code on the
socket. A refusal uses no token up, so the two attempts see the same situation. A resume that
wins is made over HTTP, then over the socket from the same point: both answers say the same, but
for the player's own `connected` flag (a socket connects them; an HTTP reconnect does not).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import context
from rejoin_server.store.base import TokenClaimUse, TokenUse
from rejoin_server.store.memory import MemoryGameStore

from .support import AsyncApi, Player, running_async
from .ws_support import Sockets, hello_frame, sockets


@dataclass(frozen=True, slots=True)
class Attempt:
    """A resume to make over both transports."""

    player: Player  # the game and the player it names
    token: str
    client_id: str = "tab-2"
    last_seq: int | None = 0


def stranger(api: AsyncApi, game_id: str, player_id: str = "stranger") -> Player:
    """A player with a well-signed reconnect token for `game_id` (never issued) and no seat."""
    token = api.services.signer.reconnect_token(game_id, player_id, "0" * 32)
    return Player(game_id, player_id, -1, "", token)


async def reconnect(api: AsyncApi, player: Player, token: str, client_id: str) -> dict[str, Any]:
    """A won HTTP reconnect of `player` from seq 0 (the successor token is in the answer)."""
    body = {"playerId": player.player_id, "reconnectToken": token, "clientId": client_id}
    reply = await api.client.post(
        f"/api/game/{player.game_id}/reconnect", json={**body, "lastSeq": 0}
    )
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def move_clock(api: AsyncApi, by_ms: int) -> None:
    host = api.services.host
    real = host.clock
    host.clock = lambda: real() + by_ms


async def completed(api: AsyncApi) -> tuple[Player, Player]:
    """A two-player game, started and then abandoned: over."""
    first, second = await api.table(2)
    await api.start(first)
    await api.services.host.abandon(first.game_id)
    return first, second


# --- the situations: each sets up a server and says what to resume, and what it must answer ------


async def garbage_token(api: AsyncApi) -> Attempt:
    player = (await api.table(1))[0]
    return Attempt(player, "garbage")


async def forged_token(api: AsyncApi) -> Attempt:
    player = (await api.table(1))[0]
    return Attempt(player, stranger(api, player.game_id, player.player_id).reconnect)


async def expired_token(api: AsyncApi) -> Attempt:
    player = (await api.table(1))[0]
    move_clock(api, api.services.settings.token_ttl_ms + 1_000)
    return Attempt(player, player.reconnect)


async def another_players_token(api: AsyncApi) -> Attempt:
    first, second = await api.table(2)
    return Attempt(first, second.reconnect)


async def another_games_token(api: AsyncApi) -> Attempt:
    player = (await api.table(1))[0]
    elsewhere = await api.join(await api.create(), "Zed")
    return Attempt(player, elsewhere.reconnect)


async def no_seat(api: AsyncApi) -> Attempt:
    player = (await api.table(1))[0]
    nobody = stranger(api, player.game_id)
    return Attempt(nobody, nobody.reconnect)


async def unknown_game(api: AsyncApi) -> Attempt:
    nobody = stranger(api, "no-such-game")
    return Attempt(nobody, nobody.reconnect)


async def token_won_by_another_client(api: AsyncApi) -> Attempt:
    """Used by tab-1 a moment ago, its successor not used yet: tab-2 is in conflict with it."""
    player = (await api.table(1))[0]
    await reconnect(api, player, player.reconnect, "tab-1")
    return Attempt(player, player.reconnect)


async def superseded_token(api: AsyncApi) -> Attempt:
    """Used, and its successor used too: the old token is spent for good."""
    player = (await api.table(1))[0]
    won = await reconnect(api, player, player.reconnect, "tab-1")
    await reconnect(api, player, won["connectionToken"]["token"], "tab-1")
    return Attempt(player, player.reconnect)


async def completed_game(api: AsyncApi) -> Attempt:
    first, _ = await completed(api)
    return Attempt(first, first.reconnect)


async def completed_game_spent_token(api: AsyncApi) -> Attempt:
    """That the game is over is said before the token is used: its final state is no secret to
    the seat's player, whichever of their tokens they hold."""
    first, second = await api.table(2)
    won = await reconnect(api, first, first.reconnect, "tab-1")
    await reconnect(api, first, won["connectionToken"]["token"], "tab-1")
    await api.start(second)
    await api.services.host.abandon(first.game_id)
    return Attempt(first, first.reconnect)


async def completed_game_no_seat(api: AsyncApi) -> Attempt:
    first, _ = await completed(api)
    nobody = stranger(api, first.game_id)
    return Attempt(nobody, nobody.reconnect)


async def completed_game_another_players_token(api: AsyncApi) -> Attempt:
    first, second = await completed(api)
    return Attempt(first, second.reconnect)


Situation = Callable[[AsyncApi], Awaitable[Attempt]]

REFUSALS: list[tuple[Situation, ErrorCode]] = [
    (garbage_token, ErrorCode.TOKEN_INVALID),
    (forged_token, ErrorCode.TOKEN_INVALID),
    (expired_token, ErrorCode.TOKEN_EXPIRED),
    (another_players_token, ErrorCode.FORBIDDEN),
    (another_games_token, ErrorCode.FORBIDDEN),
    (no_seat, ErrorCode.PLAYER_NOT_IN_GAME),
    (unknown_game, ErrorCode.GAME_NOT_FOUND),
    (token_won_by_another_client, ErrorCode.SEAT_CONFLICT),
    (superseded_token, ErrorCode.TOKEN_REUSED),
    (completed_game, ErrorCode.GAME_COMPLETED),
    (completed_game_spent_token, ErrorCode.GAME_COMPLETED),
    (completed_game_no_seat, ErrorCode.PLAYER_NOT_IN_GAME),
    (completed_game_another_players_token, ErrorCode.FORBIDDEN),
]


@asynccontextmanager
async def server() -> AsyncIterator[tuple[AsyncApi, Sockets]]:
    async with running_async() as api, sockets(api.app) as ws:
        yield api, ws


async def over_http(api: AsyncApi, attempt: Attempt) -> tuple[int, dict[str, Any]]:
    player = attempt.player
    body: dict[str, Any] = {
        "playerId": player.player_id,
        "reconnectToken": attempt.token,
        "clientId": attempt.client_id,
    }
    if attempt.last_seq is not None:
        body["lastSeq"] = attempt.last_seq
    reply = await api.client.post(f"/api/game/{player.game_id}/reconnect", json=body)
    answer: dict[str, Any] = reply.json()
    return reply.status_code, answer


def hello_of(attempt: Attempt) -> dict[str, Any]:
    return hello_frame(
        attempt.player, attempt.token, client_id=attempt.client_id, last_seq=attempt.last_seq
    )


@pytest.mark.parametrize(
    ("situation", "code"), REFUSALS, ids=[situation.__name__ for situation, _ in REFUSALS]
)
async def test_a_refusal_is_the_same_over_http_and_at_hello(
    situation: Situation, code: ErrorCode
) -> None:
    async with server() as (api, ws):
        attempt = await situation(api)
        status, body = await over_http(api, attempt)
        close, frame = await ws.refused(attempt.player.game_id, hello_of(attempt))
        assert body["success"] is False
        error = body["error"]
        assert error["code"] == code.value, error
        assert (status, close.code, close.reason) == (
            code.http_status,
            code.hello_close_code,
            code.value,
        )
        assert frame == {"type": "error", **error}
        if code is ErrorCode.GAME_COMPLETED:
            view = error["details"]["gameState"]
            assert view["status"] == "completed"
            assert view["you"]["playerId"] == attempt.player.player_id
            # A refused resume connects nobody, over either transport.
            assert not any(seat["connected"] for seat in view["seats"])


@pytest.mark.parametrize("last_seq", [0, 1, None, 10_000])
async def test_a_won_resume_answers_the_same_over_http_and_at_hello(last_seq: int | None) -> None:
    async with server() as (api, ws):
        first, second = await api.table(2)
        await api.start(first)
        status, answer = await over_http(api, Attempt(first, first.reconnect, "tab-1", last_seq))
        assert status == 200, answer
        successor = answer["connectionToken"]["token"]
        client, welcome = await ws.hello(first, successor, client_id="tab-1", last_seq=last_seq)
        for key in ("seq", "missedEvents", "resync", "epoch"):
            assert welcome[key] == answer[key], key
        assert welcome["resync"] is (last_seq is None or last_seq > answer["seq"])
        assert welcome["seat"] == first.seat
        # The same view, but for the player's own flag: the socket connects them.
        over_socket, over_http_ = welcome["gameState"], answer["gameState"]
        flags = {s["playerId"]: s["connected"] for s in over_socket["seats"]}
        assert flags == {first.player_id: True, second.player_id: False}
        for seat in over_socket["seats"]:
            seat["connected"] = False
        assert over_socket == over_http_
        assert await client.roundtrip() == []


async def test_a_won_resume_over_http_supersedes_the_seats_socket_as_a_hello_does() -> None:
    async with server() as (api, ws):
        player = (await api.table(1))[0]
        older, welcome = await ws.hello(player, client_id="tab-1")
        status, answer = await over_http(
            api, Attempt(player, welcome["token"]["token"], "tab-1", None)
        )
        assert status == 200, answer
        _, close = await older.closed()
        assert (close.code, close.reason) == (4409, "superseded")
        newer, _ = await ws.hello(player, answer["connectionToken"]["token"], client_id="tab-1")
        assert await newer.roundtrip() == []


# --- many at once ------------------------------------------------------------------------------


class HeldTokens(MemoryGameStore):
    """Token uses wait until `release` is set, counting how many are waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.waiting = 0

    async def _consume_token(self, use: TokenClaimUse) -> TokenUse:
        self.waiting += 1
        await self.release.wait()
        return await super()._consume_token(use)


async def test_resumes_past_their_load_are_let_through_a_few_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a restart everyone resumes at once: `RESUMES_AT_ONCE` of them go as far as using
    their token while the others wait their turn (so the first are answered first), and every
    one of them is answered once the store answers."""
    monkeypatch.setattr(context, "RESUMES_AT_ONCE", 2)
    store = HeldTokens()
    async with running_async(store) as api:
        players = await api.table(5)
        store.release.set()  # the joins' tokens
        store.release = asyncio.Event()
        tasks = [
            asyncio.create_task(reconnect(api, p, p.reconnect, f"tab-{p.player_id}"))
            for p in players
        ]
        for _ in range(1000):  # until the first two have reached the store
            if store.waiting == 2:
                break
            await asyncio.sleep(0)
        for _ in range(200):  # then as many turns again as all five could need: none follows
            await asyncio.sleep(0)
        assert store.waiting == 2
        store.release.set()
        answers = await asyncio.gather(*tasks)
    assert sorted(a["connectionToken"]["playerId"] for a in answers) == sorted(
        p.player_id for p in players
    )
    assert store.waiting == 5
