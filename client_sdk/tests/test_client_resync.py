"""A resync reaches the application as an item of kind `resync`, never as a silent jump."""

from __future__ import annotations

import asyncio

from rejoin import RESYNC, GameClient, MemoryTokenStore
from rejoin.http_api import post_json

from .conftest import RealServer


async def test_a_resync_is_an_item_of_the_event_stream(server: RealServer) -> None:
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = MemoryTokenStore()
    alice, bob = GameClient(server.url, game_id, store=store), GameClient(server.url, game_id)
    seat = await alice.join("alice")
    await bob.join("bob")
    # No last seq to resume from (a store written by another tool, say): the server resyncs.
    store.save(seat.with_changes(last_seq=None))
    await asyncio.wait_for(alice.connect(), 10)
    await asyncio.wait_for(bob.connect(), 10)
    await post_json(f"{server.url}/api/game/{game_id}/start", {}, bearer=alice.session_token)
    items = []
    async with asyncio.timeout(10):
        async for item in alice.events():
            items.append(item)
            if item["kind"] == "hole_cards" and len(items) >= 5:
                break
    first = items[0]
    assert first["kind"] == RESYNC
    assert first["seq"] == 2  # two players joined before the connect
    assert first["data"]["gameState"]["seq"] == 2
    assert [item["seq"] for item in items[1:]] == list(range(3, 3 + len(items) - 1))
    await alice.close()
    await bob.close()
