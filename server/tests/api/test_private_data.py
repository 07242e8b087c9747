"""Private data at rest as the app sees it: `/healthz` says whether hole cards are encrypted, the
newest data key is registered at start, and a store holding a key the app was not given stops
the lifespan (the CLI refuses with one line before that: e2e/server/test_private_data_at_rest)."""

from __future__ import annotations

import secrets

import orjson
import pytest

from rejoin_server.privatedata import DataKeyMissing
from rejoin_server.store.base import RawEvent
from rejoin_server.store.datakeys import decode_key, key_id
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN_AUTH, answer, assert_error, running

KEY, OTHER = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def test_healthz_says_private_data_is_in_the_clear_without_keys() -> None:
    with running() as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "clear"


async def test_healthz_says_encrypted_and_the_newest_key_is_registered() -> None:
    store = MemoryGameStore()
    with running(store, data_keys=(KEY, OTHER)) as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "encrypted"
    assert [row.key_id for row in await store.data_keys()] == [key_id(decode_key(KEY))]


async def test_a_store_holding_a_key_not_given_stops_the_app() -> None:
    store = MemoryGameStore()
    await store.register_data_key(key_id(decode_key(OTHER)), 1)
    with pytest.raises(DataKeyMissing, match=key_id(decode_key(OTHER))), running(store):
        pass
    with (
        pytest.raises(DataKeyMissing, match="not among the keys given"),
        running(store, data_keys=(KEY,)),
    ):
        pass
    await store.retire_data_keys([key_id(decode_key(OTHER))], 2)
    with running(store, data_keys=(KEY,)) as api:
        assert answer(api.client.get("/healthz"))["privateData"] == "encrypted"


def test_a_tampered_event_past_a_good_snapshot_can_still_be_rolled_back() -> None:
    """The versions, the console's snapshots and the rollback read snapshots: an event that does
    not open after the newest one is raised only when it is replayed, not by the listings."""
    store = MemoryGameStore()
    with running(store, data_keys=(KEY,)) as api:
        ann, bob = players = api.table(2, seats=2, autoNextHand=False, startingStack=100)
        game_id = ann.game_id
        api.start(ann)
        answer(api.act(api.to_act(players), "fold"))  # hand 1 ends: a snapshot
        between = api.state(ann)["gameState"]
        api.start(ann)  # hand 2: its hole cards sealed, after the snapshot
        tamper(store, game_id, -1)
        api.forget(game_id)  # read back from the store from now on
        assert_error(
            api.client.get(f"/api/game/{game_id}/state", headers=ann.auth), "state_corrupted"
        )

        listed = api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH)
        boundary = answer(listed)["versions"][0]
        assert boundary["version"] == between["seq"]
        snapshots = api.client.get(f"/api/admin/games/{game_id}/snapshots", headers=ADMIN_AUTH)
        listed = answer(snapshots)["snapshots"]
        assert listed[0]["verified"] is True
        # The size stored, sealed: not the opened state's.
        stored = store._games[game_id].snapshots
        assert all("$sealed" in stored[s["version"]].state for s in listed)
        assert [s["bytes"] for s in listed] == [
            len(stored[s["version"]].state.encode()) for s in listed
        ]
        body = {"toVersion": boundary["version"], "reason": "a tampered event"}
        done = api.client.post(f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH)
        assert answer(done)["version"] == boundary["version"]
        assert api.state(bob)["gameState"]["handNumber"] == 1


def tamper(store: MemoryGameStore, game_id: str, which: int) -> RawEvent:
    """A game's stored `hole_cards` event (`which`: its index among them) with its ciphertext
    changed."""
    dealt = [e for e in store._games[game_id].events.values() if e.kind == "hole_cards"]
    raw = dealt[which]
    data = orjson.loads(raw.data)
    data["$sealed"] = data["$sealed"][:-2] + ("A" if data["$sealed"][-2] != "A" else "B") + "A"
    store._games[game_id].events[raw.seq] = RawEvent(
        raw.seq, raw.kind, raw.at, orjson.dumps(data).decode()
    )
    return raw


def test_a_replay_that_reads_a_tampered_event_of_a_served_game_says_so() -> None:
    store = MemoryGameStore()
    with running(store, data_keys=(KEY,)) as api:
        ann, _ = players = api.table(2, seats=2, autoNextHand=False, startingStack=100)
        game_id = ann.game_id
        api.start(ann)
        answer(api.act(api.to_act(players), "fold"))  # hand 1 ends: a snapshot after it
        first = tamper(store, game_id, 0)  # hand 1's: before the snapshot
        api.forget(game_id)
        assert api.state(ann)["gameState"]["handNumber"] == 1  # served, from the snapshot
        replay = api.client.get(
            f"/api/game/{game_id}/events?after=0",
            headers={**ann.auth, "Accept": "application/json"},
        )
        message = assert_error(replay, "state_corrupted")["message"]
        assert f"stored event {first.seq} cannot be read" in message
        assert "The game goes on" in message
        assert "cannot be restored" not in message
