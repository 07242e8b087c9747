"""`GameClient(transport="sse")` against a real server, for what only the event stream's own
messages can carry (the server's side of issue 19): a seat resumed by another connection ends
the stream with `event: close` 4409, as it closes a WebSocket, while a stream ended because the
player opened too many is resumed; and fresh tokens are pushed on the stream, so that a client
connected past its first token's expiry still resumes its seat.
(Playing, kill -9 and presence over SSE: `test_client_restart`, `test_client_presence`.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from rejoin import GameClient, MemoryTokenStore, SessionFailedError, SessionState
from rejoin.http_api import post_json
from rejoin.transport import Transport
from rejoin_protocol.errors import CLOSE_SUPERSEDED
from rejoin_protocol.session_outputs import StatusChanged
from rejoin_testkit.processes import ServerProcess

from .conftest import sqlite_server

WAIT_S = 15.0  # a bound for hangs, never a measure of anything


@pytest.fixture
def short_tokens(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose reconnect tokens live 2 s: pushed fresh about every second. A stream looks
    whether a push is due at each block or heartbeat: the heartbeat (the ping interval) is
    200 ms, not the 5 s default, so that a push goes out soon after it is due."""
    process = sqlite_server(tmp_path, "--token-ttl", "2s", "--ping-interval", "200ms")
    try:
        process.start_ready()
        yield process
    finally:
        process.cleanup()


async def until(check: object, what: str) -> None:
    """Poll `check()` (a callable) until true; fail after WAIT_S saying `what`."""
    assert callable(check)
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"waited {WAIT_S} s for {what}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("newcomer", ["sse", "websocket"])
async def test_a_seat_resumed_elsewhere_ends_the_sse_client_as_superseded(
    server: ServerProcess, newcomer: Transport
) -> None:
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = MemoryTokenStore()  # shared: the second client resumes with the newest token
    first = GameClient(server.url, game_id, store=store, transport="sse")
    await first.join("alice")
    await asyncio.wait_for(first.connect(), WAIT_S)
    assert first.transport == "sse"

    second = GameClient(server.url, game_id, store=store, transport=newcomer)
    await asyncio.wait_for(second.connect(), WAIT_S)
    assert second.transport == newcomer
    await until(lambda: first.status is SessionState.CLOSED, "the first client to be superseded")
    with pytest.raises(SessionFailedError) as failed:
        await first.act("check")
    assert failed.value.close_code == CLOSE_SUPERSEDED
    assert failed.value.code == "superseded"
    assert second.status is SessionState.CONNECTED  # the newcomer keeps the seat
    await first.close()
    await second.close()


async def test_a_stream_ended_for_too_many_streams_is_resumed_the_seat_still_the_clients(
    server: ServerProcess,
) -> None:
    """Four more streams of the player (other tabs, say) end the oldest, the client's, with a
    4409 `superseded: too many streams`: not a seat won elsewhere, so the client resumes."""
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    client = GameClient(server.url, game_id, store=MemoryTokenStore(), transport="sse")
    await client.join("alice")
    await asyncio.wait_for(client.connect(), WAIT_S)
    changes: list[StatusChanged] = []
    client.on_status(changes.append)
    auth = {"Authorization": f"Bearer {client.session_token}"}
    url = f"{server.url}/api/game/{game_id}/events"
    async with httpx.AsyncClient(timeout=httpx.Timeout(WAIT_S)) as http, AsyncExitStack() as open_:
        for _ in range(4):
            reply = await open_.enter_async_context(http.stream("GET", url, headers=auth))
            assert reply.status_code == 200
        await until(lambda: len(changes) >= 2, "the client to lose its stream and resume")
    assert changes[0].current is SessionState.BACKING_OFF
    assert "superseded: too many streams" in changes[0].reason
    await until(lambda: client.status is SessionState.CONNECTED, "the resume")
    assert client.transport == "sse"
    state = await client.fetch_state()  # the resume's session token holds the seat
    assert state["you"]["seat"] == client.seat
    await client.close()


async def test_tokens_pushed_on_the_stream_resume_the_seat_after_the_first_expired(
    short_tokens: ServerProcess,
) -> None:
    server = short_tokens
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = MemoryTokenStore()
    client = GameClient(server.url, game_id, store=store, transport="sse")
    joined = await client.join("alice")
    await asyncio.wait_for(client.connect(), WAIT_S)
    welcomed = store.load(game_id)
    assert welcomed is not None
    assert welcomed.reconnect_token != joined.reconnect_token

    # Pushed at half a token's life since the stream opened or the last push: by the second
    # push, the welcome's token (issued before the stream opened) has run out.
    seen = [welcomed.reconnect_token]

    def pushed_twice() -> bool:
        saved = store.load(game_id)
        if saved is not None and saved.reconnect_token != seen[-1]:
            seen.append(saved.reconnect_token)
        return len(seen) >= 3

    await until(pushed_twice, "two tokens pushed on the event stream")
    fresh = store.load(game_id)
    assert fresh is not None
    assert fresh.session_token != welcomed.session_token
    assert client.session_token == fresh.session_token
    assert client.status is SessionState.CONNECTED
    # The connection is dropped: the client resumes with the newest token, the welcome's dead.
    client.network_changed(False)
    client.network_changed(True)
    await until(lambda: client.status is SessionState.CONNECTED, "the resume")
    assert client.last_resume is not None
    assert client.last_resume.transport == "sse"
    # The seat's session token still acts (a pushed one, or the resume's own).
    state = await client.fetch_state()
    assert state["you"]["seat"] == client.seat
    await client.close()
