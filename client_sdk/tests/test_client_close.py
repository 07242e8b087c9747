"""Closing a client ends everything waiting on it, with a typed error (`connect()` too, when
closed before its first welcome: it would otherwise wait for ever); a token store that fails does
not stop the game."""

from __future__ import annotations

import asyncio

import pytest

from rejoin import ClientClosedError, GameClient, MemoryTokenStore, SavedSeat, SessionState
from rejoin.http_api import post_json
from rejoin_testkit.processes import ServerProcess, free_port


def nobody_listens() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def test_close_before_the_first_welcome_ends_connect_and_later_acts() -> None:
    store = MemoryTokenStore()
    store.save(SavedSeat("g1", "p1", "c1", "reconnect-token", "session-token"))
    client = GameClient(nobody_listens(), "g1", store=store)
    backing_off = asyncio.Event()
    client.on_status(
        lambda change: backing_off.set() if client.status == SessionState.BACKING_OFF else None
    )
    connecting = asyncio.ensure_future(client.connect())
    await asyncio.wait_for(backing_off.wait(), 10)  # the dial was refused: nothing can welcome
    await client.close()
    with pytest.raises(ClientClosedError):
        await asyncio.wait_for(connecting, 10)
    with pytest.raises(ClientClosedError):
        await client.act("check")


class FlakyStore(MemoryTokenStore):
    """Refuses its first saves after the join, as a full disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 0
        self.refusing = False

    def save(self, seat: SavedSeat) -> None:
        if self.refusing and self.refusals < 3:
            self.refusals += 1
            raise OSError(28, "No space left on device")
        super().save(seat)


async def test_a_failing_store_does_not_stop_the_game(server: ServerProcess) -> None:
    """A store that raises inside the client's pump must neither kill its timer (a hang) nor be
    taken for a lost connection (endless reconnects)."""
    game_id = (await post_json(f"{server.url}/api/games", {"seats": 2}))["gameId"]
    store = FlakyStore()
    alice, bob = GameClient(server.url, game_id, store=store), GameClient(server.url, game_id)
    await alice.join("alice")
    await bob.join("bob")
    store.refusing = True
    await asyncio.wait_for(alice.connect(), 10)  # its welcome's token could not be saved
    await asyncio.wait_for(bob.connect(), 10)
    assert alice.session_token is not None
    await post_json(f"{server.url}/api/game/{game_id}/start", {}, bearer=alice.session_token)
    seqs = []
    async with asyncio.timeout(10):
        async for event in alice.events():
            seqs.append(event["seq"])
            if event["kind"] == "hole_cards" and len(seqs) >= 6:
                break
    assert seqs == list(range(1, len(seqs) + 1))
    assert alice.status == SessionState.CONNECTED
    assert store.refusals == 3
    await alice.close()  # saves what the application took
    await bob.close()
    saved = store.load(game_id)
    assert saved is not None
    assert saved.last_seq == seqs[-1]
