"""`on_presence`: the server's word that another player came or went (not an event), reported
as it arrives; `presence` holds what was said since the last welcome. Over SSE the event stream,
opened just after the welcome, first says where each other player is (so that a change between
the welcome and the stream is not missed): that is said too."""

from __future__ import annotations

import asyncio

import pytest

from rejoin import GameClient, MemoryTokenStore
from rejoin.http_api import post_json
from rejoin.transport import Transport
from rejoin_testkit.processes import ServerProcess


# Over SSE both ways: a player on an event stream counts as connected, and hears the others.
@pytest.mark.parametrize("transport", ["auto", "sse"])
async def test_presence_is_reported_as_players_come_and_go(
    server: ServerProcess, transport: Transport
) -> None:
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    bob_store = MemoryTokenStore()
    alice = GameClient(server.url, game_id, transport=transport)
    bob = GameClient(server.url, game_id, store=bob_store, transport=transport)
    await alice.join("alice")
    bob_seat = await bob.join("bob")
    heard: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
    alice.on_presence(lambda player, connected: heard.put_nowait((player, connected)))
    await asyncio.wait_for(alice.connect(), 10)
    over_sse = alice.transport == "sse"
    assert over_sse == (transport == "sse")
    if over_sse:  # the stream's opening: bob is not there
        assert await asyncio.wait_for(heard.get(), 10) == (bob_seat.player_id, False)

    await asyncio.wait_for(bob.connect(), 10)
    assert await asyncio.wait_for(heard.get(), 10) == (bob_seat.player_id, True)
    await bob.close()
    assert await asyncio.wait_for(heard.get(), 10) == (bob_seat.player_id, False)
    assert alice.presence == {bob_seat.player_id: False}

    again = GameClient(server.url, game_id, store=bob_store, transport=transport)  # bob's seat
    await asyncio.wait_for(again.connect(), 10)
    assert await asyncio.wait_for(heard.get(), 10) == (bob_seat.player_id, True)
    # A welcome's view says who is connected then: what was heard before it is dropped.
    welcomed = asyncio.Event()
    alice.on_status(lambda change: welcomed.set() if change.current.value == "connected" else None)
    alice.network_changed(False)
    alice.network_changed(True)
    await asyncio.wait_for(welcomed.wait(), 10)
    if over_sse:  # the new stream's opening says bob is there
        assert await asyncio.wait_for(heard.get(), 10) == (bob_seat.player_id, True)
        assert alice.presence == {bob_seat.player_id: True}
    else:
        assert alice.presence == {}
    await again.close()
    await alice.close()
