"""The edges of an operator's rollback over HTTP: a stored game of a kind this server does not
serve, a game kept in memory only that this server does not hold, an append that fails (its
answer lost, or fenced out), and a game whose log cannot be restored (`state_corrupted`)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import Fenced, StorageUnavailable
from rejoin_server.games.base import Event
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN_AUTH, Api, Player, answer, assert_error, running, running_async
from .tally_game import TallyEngine
from .test_rollback import serving


def test_the_versions_of_a_game_of_a_kind_not_served_are_refused_naming_it() -> None:
    store = MemoryGameStore()
    with running(store, games=[TallyEngine()]) as api:
        game_id = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        api.join(game_id, "Ann")
        answer(api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH))
    with running(store) as api:  # the same store, a server without the tally engine
        for reply in (
            api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH),
            api.client.post(
                f"/api/game/{game_id}/rollback",
                json={"toVersion": 1, "reason": "r"},
                headers=ADMIN_AUTH,
            ),
        ):
            error = assert_error(reply, ErrorCode.INVALID_REQUEST)
            assert "kind 'tally', which this server does not serve" in error["message"]
            assert error["details"] == {"kind": "tally", "kinds": ["poker"]}


def test_the_versions_of_a_memory_game_not_held_say_it_is_gone() -> None:
    with running() as api:
        game_id = api.create(durability="memory")
        answer(api.client.delete(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH))
        for reply in (
            api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH),
            api.client.post(
                f"/api/game/{game_id}/rollback",
                json={"toVersion": 1, "reason": "r"},
                headers=ADMIN_AUTH,
            ),
        ):
            error = assert_error(reply, ErrorCode.GAME_NOT_FOUND)
            assert 'kept in memory only (durability "memory")' in error["message"]
            assert "Create a new game" in error["message"]


class LosingStore(MemoryGameStore):
    """Commits the next `snapshot_restored` append, then raises as if the answer were lost
    (`lose`), or refuses it as a node fenced out would be (`fence`)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose = self.fence = False

    async def append(self, game_id: str, events: Sequence[Event], **kw: Any) -> None:
        rollback = any(event.kind == "snapshot_restored" for event in events)
        if rollback and self.fence:
            raise Fenced(game_id, events[0].seq)
        await super().append(game_id, events, **kw)
        if rollback and self.lose:
            self.lose = False
            raise StorageUnavailable("lost answer")


def played(api: Api) -> tuple[list[Player], int, int]:
    """A heads-up table, one hand played to its end, and the next begun: the players, the
    version between the hands and the seq the game is at."""
    ann, _ = players = api.table(2, seats=2, autoNextHand=False, startingStack=100)
    api.start(ann)
    answer(api.act(api.to_act(players), "fold"))
    reply = api.client.get(f"/api/game/{ann.game_id}/versions", headers=ADMIN_AUTH)
    version = answer(reply)["versions"][0]["version"]
    api.start(ann)
    return players, version, api.state(ann)["gameState"]["seq"]


def test_a_rollback_committed_whose_answer_was_lost_is_reloaded_from_the_store(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = LosingStore()
    with running(store) as api:
        players, version, seq = played(api)
        ann = players[0]
        store.lose = True
        body = {"toVersion": version, "reason": "r"}
        reply = api.client.post(f"/api/game/{ann.game_id}/rollback", json=body, headers=ADMIN_AUTH)
        assert_error(reply, ErrorCode.STORAGE_UNAVAILABLE)
        assert "store unavailable: lost answer" in caplog.text  # told to the writer: degraded
        # Memory let the game go: loaded again, it is what the store holds, rolled back.
        state = api.state(ann)["gameState"]
        assert state["seq"] == seq + 1
        assert state["handNumber"] == 1
        assert state["phase"] == "hand_over"  # between the hands, as at the version


def test_a_rollback_fenced_out_lets_the_game_go_and_writes_nothing() -> None:
    store = LosingStore()
    with running(store) as api:
        players, version, seq = played(api)
        ann = players[0]
        store.fence = True
        body = {"toVersion": version, "reason": "r"}
        reply = api.client.post(f"/api/game/{ann.game_id}/rollback", json=body, headers=ADMIN_AUTH)
        error = assert_error(reply, ErrorCode.STALE_STATE)
        assert "hosted by another node" in error["message"]
        assert api.services.host.loaded(ann.game_id) is None
        store.fence = False
        state = api.state(ann)["gameState"]
        assert (state["seq"], state["handNumber"]) == (seq, 2)  # nothing of it was stored


def corrupt_last_event(url: str, game_id: str) -> None:
    """Spoil the data of the game's last event, as a bad write or a hand edit would: its game
    cannot apply it any more (`state_corrupted`)."""
    spoil = (
        "UPDATE events SET data = '{\"spoiled\": true}' WHERE game_id = {p} AND seq = "
        "(SELECT MAX(seq) FROM events WHERE game_id = {p})"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(spoil.replace("{p}", "?"), (game_id, game_id))
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(spoil.replace("{p}", "%s"), (game_id, game_id))


def test_a_corrupt_game_can_be_rolled_back(database_url: str) -> None:
    with serving(database_url) as api:
        players, version, seq = played(api)
        ann = players[0]
        answer(api.act(api.to_act(players), "call"))  # an event after the newest snapshot
    corrupt_last_event(database_url, ann.game_id)
    with serving(database_url) as api:
        error = assert_error(
            api.client.get(f"/api/game/{ann.game_id}/state", headers=ann.auth),
            ErrorCode.STATE_CORRUPTED,
        )
        assert "Roll back to a snapshot" in error["message"]
        body = {"toVersion": version, "reason": "a spoiled event"}
        reply = api.client.post(f"/api/game/{ann.game_id}/rollback", json=body, headers=ADMIN_AUTH)
        done = answer(reply)
        assert done["seq"] == seq + 2  # past the spoiled event, which is never replayed
        state = api.state(ann)["gameState"]
        assert (state["seq"], state["handNumber"], state["phase"]) == (seq + 2, 1, "hand_over")
        assert api.start(ann)["handNumber"] == 2  # and it goes on
    with serving(database_url) as api:  # and after a restart
        assert api.state(ann)["gameState"]["handNumber"] == 2


def test_a_rollback_to_a_completed_version_keeps_when_the_game_was_completed() -> None:
    store = MemoryGameStore()
    with running(store) as api:
        players, _, _ = played(api)
        game_id = players[0].game_id
        api.abandon(game_id)
        completed_at = api.run(store.get_game, game_id).completed_at
        reply = api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH)
        newest = answer(reply)["versions"][0]
        assert newest["status"] == "completed"
        body = {"toVersion": newest["version"], "reason": "r", "reopen": True}
        answer(api.client.post(f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH))
        record = api.run(store.get_game, game_id)
        live = api.services.host.loaded(game_id)
        assert live is not None
        assert record.status == "completed"
        assert live.completed_at_ms == record.completed_at == completed_at


def test_the_body_takes_a_reason_not_blank_and_a_whole_version() -> None:
    with running() as api:
        players, version, seq = played(api)
        game_id = players[0].game_id
        url = f"/api/game/{game_id}/rollback"
        for body, says in (
            ({"toVersion": version, "reason": "   "}, "`reason` must not be blank: say why"),
            ({"toVersion": version, "reason": "x" * 201}, "at most 200 characters"),
            ({"toVersion": version + 0.5, "reason": "r"}, "`toVersion` must be an integer"),
        ):
            error = assert_error(
                api.client.post(url, json=body, headers=ADMIN_AUTH), "invalid_request"
            )
            assert says in error["message"], error
        assert api.state(players[0])["gameState"]["seq"] == seq  # nothing appended
        # As every integer of a body (`json_numbers`): 2.0 is the number 2.
        body = {"toVersion": float(version), "reason": "r"}
        assert answer(api.client.post(url, json=body, headers=ADMIN_AUTH))["version"] == version


def test_the_openapi_version_requires_every_key_a_version_has() -> None:
    with running() as api:
        players, _, _ = played(api)
        doc = answer(api.client.get("/openapi.json"))
        reply = api.client.get(f"/api/game/{players[0].game_id}/versions", headers=ADMIN_AUTH)
        listed = answer(reply)["versions"]
    operation = doc["paths"]["/api/game/{gameId}/versions"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    item = schema["properties"]["versions"]["items"]
    assert {"event", "problem"} <= set(item["required"])
    assert set(item["required"]) == set(item["properties"]) == set(listed[0])


class GatedStore(MemoryGameStore):
    """Holds every append but a rollback's until `gate` is set: a relaxed game's writes queue."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()

    async def append(self, game_id: str, events: Sequence[Event], **kw: Any) -> None:
        if not any(event.kind == "snapshot_restored" for event in events):
            await self.gate.wait()
        await super().append(game_id, events, **kw)


async def test_a_relaxed_games_queued_writes_are_stored_before_its_rollback() -> None:
    store = GatedStore()
    async with running_async(store) as api:
        ann, bob = await api.table(2, durability="relaxed", autoNextHand=False)
        game_id = ann.game_id
        persisted = await api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH)
        version = answer(persisted)["version"]
        store.gate.clear()
        await api.start(ann)  # acknowledged, not stored: queued behind the gate
        seq = (await api.state(ann))["gameState"]["seq"]
        assert api.services.host.writer.has_pending(game_id)
        body = {"toVersion": version, "reason": "r"}
        rolling = asyncio.create_task(
            api.client.post(f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH)
        )
        await asyncio.sleep(0)  # the rollback waits for the game's writes
        assert not rolling.done()
        store.gate.set()
        done = answer(await rolling)
        assert done["seq"] == seq + 1
        stored = await store.read_events(game_id, 0)
        assert [raw.seq for raw in stored] == list(range(1, seq + 2))  # nothing lost, no hole
        assert stored[-1].kind == "snapshot_restored"
        assert (await api.state(bob))["gameState"]["seq"] == seq + 1
