"""A resync reaches the application as an item of kind `resync`, never as a silent jump."""

from __future__ import annotations

import asyncio

from rejoin import RESYNC, GameClient, MemoryTokenStore
from rejoin.http_api import post_json
from rejoin_testkit.processes import ServerProcess


async def test_a_resync_is_an_item_of_the_event_stream(server: ServerProcess) -> None:
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


async def test_a_client_resumes_from_what_its_application_took_not_from_what_was_queued(
    server: ServerProcess,
) -> None:
    """The saved last seq counts events once the application took them, not once queued: a
    client that ended with events still queued would otherwise lose them for good on its next
    run."""
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = MemoryTokenStore()
    alice, bob = GameClient(server.url, game_id, store=store), GameClient(server.url, game_id)
    await alice.join("alice")
    await bob.join("bob")
    await post_json(f"{server.url}/api/game/{game_id}/start", {}, bearer=bob.session_token)
    await asyncio.wait_for(alice.connect(), 10)  # the welcome replays every event so far
    taken = []
    async with asyncio.timeout(10):
        async for item in alice.events():
            taken.append(item["seq"])
            if len(taken) == 2:
                break
    await alice.close()
    again = GameClient(server.url, game_id, store=store)
    await asyncio.wait_for(again.connect(), 10)
    resumed = []
    async with asyncio.timeout(10):
        async for item in again.events():
            resumed.append(item["seq"])
            if item["kind"] == "hole_cards" and item["data"]["cards"] is not None:
                break
    assert taken == [1, 2]
    assert resumed[0] == 3  # nothing the application had not taken was lost
    assert resumed == list(range(3, 3 + len(resumed)))
    await again.close()


async def test_the_saved_seat_keeps_the_welcomes_epoch_and_asks_again_until_a_resync_is_taken(
    server: ServerProcess,
) -> None:
    """Issue 12: the epoch goes back with the last seq, so a history the server lost in a crash
    is answered with a resync; and until the application has taken that resync, what it holds
    may be such a history, so a restart then must ask for a resync again."""
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = MemoryTokenStore()
    alice = GameClient(server.url, game_id, store=store)
    seat = await alice.join("alice")
    store.save(seat.with_changes(last_seq=None))
    await asyncio.wait_for(alice.connect(), 10)
    saved = store.load(game_id)
    assert saved is not None
    assert saved.last_seq is None  # the resync is queued, not taken
    assert saved.epoch is not None
    epoch, _, first = saved.epoch.rpartition(".")
    assert epoch
    assert first.isdigit()
    async with asyncio.timeout(10):
        async for item in alice.events():
            assert item["kind"] == RESYNC
            break
    await alice.close()
    saved = store.load(game_id)
    assert saved is not None
    assert saved.last_seq == 1  # taken: from here on it resumes as usual
