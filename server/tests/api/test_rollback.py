"""An operator's rollback (`GET …/versions`, `POST …/rollback`) on SQLite and PostgreSQL: the
versions kept, the `snapshot_restored` event and the state after it, a restart and a replay from
seq 1 after it, ordering with actions (`atSeq` → stale_state), reopening a completed game, and
every refusal with its code."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from rejoin_protocol.errors import ErrorCode
from rejoin_server.app import create_app
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.settings import ServerSettings
from rejoin_server.store.restore import restore_game
from rejoin_server.store.sql import SqlGameStore

from .support import (
    ADMIN,
    ADMIN_AUTH,
    Api,
    Player,
    answer,
    assert_error,
    bearer,
    running,
    running_async,
)
from .tally_game import TallyEngine
from .test_console import Asked, HeldElsewhere
from .ws_support import sockets

HEADS_UP = {"seats": 2, "autoNextHand": False, "startingStack": 100}


@pytest.fixture
def sql_api(database_url: str) -> Iterator[Api]:
    with serving(database_url) as api:
        yield api


def serving(database_url: str) -> Any:
    class _Serving:
        def __enter__(self) -> Api:
            settings = ServerSettings(database_url=database_url, admin_token=ADMIN)
            self.client = TestClient(create_app(settings), raise_server_exceptions=False)
            self.client.__enter__()
            return Api(self.client, self.client.app)  # type: ignore[arg-type]

        def __exit__(self, *exc: object) -> None:
            self.client.__exit__(*exc)

    return _Serving()


def versions(api: Api, game_id: str) -> list[dict[str, Any]]:
    reply = api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH)
    found: list[dict[str, Any]] = answer(reply)["versions"]
    return found


def rollback(api: Api, game_id: str, body: dict[str, Any], auth: Any = ADMIN_AUTH) -> Any:
    return api.client.post(f"/api/game/{game_id}/rollback", json=body, headers=auth)


def play_hand_to_its_end(api: Api, players: list[Player]) -> None:
    """The player to act folds: heads-up, that ends the hand."""
    answer(api.act(api.to_act(players), "fold"))


def without_seq(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("seq", "actionDeadline")}


def test_roll_back_mid_hand_to_the_hands_start(sql_api: Api) -> None:
    api = sql_api
    ann, bob = players = api.table(2, **HEADS_UP)
    game_id = ann.game_id
    api.start(ann)
    play_hand_to_its_end(api, players)  # hand 1 ends: a snapshot at the hand boundary
    between = api.state(ann)["gameState"]
    boundary = versions(api, game_id)[0]
    assert boundary["version"] == between["seq"]
    assert boundary["handBoundary"] is True
    assert boundary["event"] == "hand_ended"
    assert (boundary["handNumber"], boundary["phase"], boundary["status"]) == (
        1,
        "hand_over",
        "playing",
    )
    assert {s["seat"]: s["stack"] for s in boundary["stacks"]} == {
        s["seat"]: s["stack"] for s in between["seats"]
    }
    assert boundary["verified"] is True
    assert isinstance(boundary["at"], int)
    api.start(ann)  # hand 2, mid-hand
    answer(api.act(api.to_act(players), "call"))
    before = api.state(bob)["gameState"]
    assert before["handNumber"] == 2

    done = answer(rollback(api, game_id, {"toVersion": boundary["version"], "reason": "misdeal"}))
    assert done == {"success": True, "seq": before["seq"] + 1, "version": boundary["version"]}
    event = api.events(ann, after=before["seq"])["events"]
    assert [(e["seq"], e["kind"]) for e in event] == [(done["seq"], "snapshot_restored")]
    assert event[0]["data"] == {
        "version": boundary["version"],
        "reason": "misdeal",
        "handNumber": 1,
    }
    after = api.state(ann)["gameState"]
    assert after["seq"] == done["seq"]
    assert without_seq(after) == without_seq(between)
    # The game goes on from there: hand 2 again.
    assert api.start(ann)["handNumber"] == 2
    # The rollback's own snapshot is kept, at the boundary it restored.
    newest = [v for v in versions(api, game_id) if v["version"] == done["seq"]]
    assert newest
    assert newest[0]["event"] == "snapshot_restored"
    assert newest[0]["handBoundary"]


def test_after_a_rollback_a_restart_and_a_replay_from_seq_1_give_the_live_state(
    database_url: str,
) -> None:
    with serving(database_url) as api:
        ann, bob = players = api.table(2, **HEADS_UP)
        game_id = ann.game_id
        api.start(ann)
        play_hand_to_its_end(api, players)
        first = versions(api, game_id)[0]["version"]
        api.start(ann)
        play_hand_to_its_end(api, players)
        api.start(ann)
        answer(api.act(api.to_act(players), "call"))
        answer(rollback(api, game_id, {"toVersion": first, "reason": "earlier hand"}))
        api.start(ann)  # hand 2 again, and a rollback within it to its start
        second = answer(rollback(api, game_id, {"toVersion": first, "reason": "again"}))
        live = answer(api.client.get(f"/api/game/{game_id}/restore", headers=ADMIN_AUTH))
        views = {p.player_id: api.state(p)["gameState"] for p in (ann, bob)}
    with serving(database_url) as api:
        again = answer(api.client.get(f"/api/game/{game_id}/restore", headers=ADMIN_AUTH))
        assert (again["version"], again["gameState"]) == (second["seq"], live["gameState"])
        assert {p.player_id: api.state(p)["gameState"] for p in (ann, bob)} == views
    _delete_snapshots(database_url)
    restored = asyncio.run(_restore(database_url, game_id))
    assert restored.snapshot_version == 0  # replayed from seq 1, rollbacks rebuilt by replay
    assert restored.state.dump() == live["gameState"]


def test_an_action_at_the_old_seq_is_stale_after_a_rollback(sql_api: Api) -> None:
    api = sql_api
    ann, _ = players = api.table(2, **HEADS_UP)
    api.start(ann)
    play_hand_to_its_end(api, players)
    version = versions(api, ann.game_id)[0]["version"]
    api.start(ann)
    seen = api.state(ann)["gameState"]["seq"]
    actor = api.to_act(players)
    answer(rollback(api, ann.game_id, {"toVersion": version, "reason": "r"}))
    reply = api.client.post(
        f"/api/game/{ann.game_id}/action",
        json={"actionId": "late", "type": "call", "atSeq": seen},
        headers=actor.auth,
    )
    assert_error(reply, ErrorCode.STALE_STATE)


def test_a_completed_game_is_refused_unless_reopened(sql_api: Api) -> None:
    api = sql_api
    ann, bob = players = api.table(2, **HEADS_UP)
    api.start(ann)
    play_hand_to_its_end(api, players)
    version = versions(api, ann.game_id)[0]["version"]
    api.abandon(ann.game_id)
    body = {"toVersion": version, "reason": "ended by mistake"}
    error = assert_error(rollback(api, ann.game_id, body), ErrorCode.GAME_COMPLETED)
    assert "reopen" in error["message"]
    record = api.run(api.services.store.get_game, ann.game_id)
    assert record.status == "completed"
    assert record.completed_at is not None
    answer(rollback(api, ann.game_id, {**body, "reopen": True}))
    assert api.state(bob)["gameState"]["status"] == "playing"
    record = api.run(api.services.store.get_game, ann.game_id)
    assert (record.status, record.completed_at) == ("playing", None)
    assert api.start(ann)["handNumber"] == 2


def test_a_player_who_joined_after_the_version_is_not_in_the_game(sql_api: Api) -> None:
    api = sql_api
    game_id = api.create(seats=3, autoNextHand=False)
    ann, bob = api.join(game_id, "Ann"), api.join(game_id, "Bob")
    version = answer(api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH))["version"]
    cyd = api.join(game_id, "Cyd")
    answer(rollback(api, game_id, {"toVersion": version, "reason": "Cyd was never here"}))
    assert_error(
        api.client.get(f"/api/game/{game_id}/state", headers=cyd.auth),
        ErrorCode.PLAYER_NOT_IN_GAME,
    )
    seats = api.state(ann)["gameState"]["seats"]
    assert sorted(s["playerId"] for s in seats) == sorted([ann.player_id, bob.player_id])
    # The seat is free again: anyone may take it.
    api.join(game_id, "Dot")


def test_refusals(sql_api: Api) -> None:
    api = sql_api
    ann, _ = players = api.table(2, **HEADS_UP)
    game_id = ann.game_id
    api.start(ann)
    play_hand_to_its_end(api, players)
    kept = [v["version"] for v in versions(api, game_id)]
    error = assert_error(
        rollback(api, game_id, {"toVersion": 1, "reason": "r"}), ErrorCode.INVALID_REQUEST
    )
    assert all(str(v) in error["message"] for v in kept)
    assert_error(rollback(api, game_id, {"toVersion": kept[0], "reason": "r"}, {}), "unauthorized")
    assert_error(
        rollback(api, game_id, {"toVersion": kept[0], "reason": "r"}, ann.auth), "forbidden"
    )
    assert_error(
        api.client.get(f"/api/game/{game_id}/versions", headers=ann.auth), ErrorCode.FORBIDDEN
    )
    assert_error(api.client.get(f"/api/game/{game_id}/versions"), ErrorCode.UNAUTHORIZED)
    for body in (
        {"reason": "r"},
        {"toVersion": kept[0]},
        {"toVersion": "1", "reason": "r"},
        {"toVersion": -1, "reason": "r"},
        {"toVersion": kept[0], "reason": ""},
        {"toVersion": kept[0], "reason": "x" * 201},
        {"toVersion": kept[0], "reason": "r", "reopen": "yes"},
    ):
        assert_error(rollback(api, game_id, body), ErrorCode.INVALID_REQUEST)
    assert_error(
        api.client.post(f"/api/game/{game_id}/rollback", content=b"[1]", headers=ADMIN_AUTH),
        ErrorCode.INVALID_REQUEST,
    )
    assert_error(rollback(api, "nosuchgame", {"toVersion": 1, "reason": "r"}), "game_not_found")
    assert_error(
        api.client.get("/api/game/nosuchgame/versions", headers=ADMIN_AUTH), "game_not_found"
    )
    # Nothing was appended by any of them.
    assert api.state(ann)["gameState"]["seq"] == kept[0]


def test_a_game_kept_in_memory_only_has_no_versions() -> None:
    with running() as api:
        game_id = api.create(durability="memory")
        api.join(game_id, "Ann")
        error = assert_error(
            api.client.get(f"/api/game/{game_id}/versions", headers=ADMIN_AUTH),
            ErrorCode.INVALID_REQUEST,
        )
        assert "memory" in error["message"]
        error = assert_error(
            rollback(api, game_id, {"toVersion": 0, "reason": "r"}), ErrorCode.INVALID_REQUEST
        )
        assert "memory" in error["message"]


def test_a_kind_whose_apply_refuses_the_event_cannot_be_rolled_back() -> None:
    with running(games=[TallyEngine()]) as api:
        reply = api.client.post("/api/games", json={"kind": "tally", "target": 50})
        game_id = answer(reply, 201)["gameId"]
        api.join(game_id, "Ann")
        persisted = api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH)
        version = answer(persisted)["version"]
        listed = versions(api, game_id)
        # Generic: a view without hands, phases or seats gets nulls.
        assert listed[0]["version"] == version
        assert (listed[0]["handNumber"], listed[0]["phase"], listed[0]["stacks"]) == (
            None,
            None,
            None,
        )
        api.join(game_id, "Bob")
        error = assert_error(
            rollback(api, game_id, {"toVersion": version, "reason": "r"}), "invalid_request"
        )
        assert "'tally' cannot be rolled back" in error["message"]


def test_the_store_down_refuses_a_rollback_never_queues_it() -> None:
    from .support import DownableStore

    store = DownableStore()
    with running(store) as api:
        ann, _ = players = api.table(2, **HEADS_UP)
        api.start(ann)
        play_hand_to_its_end(api, players)
        version = versions(api, ann.game_id)[0]["version"]
        store.down = True
        api.start(ann)  # degraded: queued, not durable
        seq = api.state(ann)["gameState"]["seq"]
        assert api.client.get("/healthz").json()["status"] == "degraded"
        reply = rollback(api, ann.game_id, {"toVersion": version, "reason": "r"})
        assert_error(reply, ErrorCode.STORAGE_UNAVAILABLE)
        assert api.state(ann)["gameState"]["seq"] == seq


def test_the_metric_counts_rollbacks(sql_api: Api) -> None:
    api = sql_api
    ann, _ = players = api.table(2, **HEADS_UP)
    api.start(ann)
    play_hand_to_its_end(api, players)
    version = versions(api, ann.game_id)[0]["version"]
    answer(rollback(api, ann.game_id, {"toVersion": version, "reason": "r"}))
    text = api.client.get("/metrics", headers=bearer(ADMIN)).text
    assert "rejoin_rollbacks_total 1.0" in text


def _delete_snapshots(url: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("DELETE FROM snapshots")
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM snapshots")


async def _restore(url: str, game_id: str) -> Any:
    store = SqlGameStore(url)
    await store.open()
    try:
        return await restore_game(store, GameKinds([PokerEngine()]), game_id)
    finally:
        await store.close()


def test_the_clock_restarts_from_the_rollback(sql_api: Api) -> None:
    """Rolled back mid-hand, the player to act gets a whole action timeout from the rollback's
    `at`, not what was left of it at the version."""
    api = sql_api
    ann, _ = players = api.table(2, seats=2, actionTimeoutMs=60_000)
    api.start(ann)
    persisted = api.client.post(f"/api/game/{ann.game_id}/persist", headers=ADMIN_AUTH)
    version = answer(persisted)["version"]
    answer(api.act(api.to_act(players), "call"))
    done = answer(rollback(api, ann.game_id, {"toVersion": version, "reason": "r"}))
    event = api.events(ann, after=done["seq"] - 1)["events"][0]
    view = api.state(ann)["gameState"]
    assert view["actionDeadline"] == event["at"] + 60_000


def test_an_event_stream_carries_the_rollback_as_an_ordinary_event(sql_api: Api) -> None:
    api = sql_api
    ann, _ = players = api.table(2, **HEADS_UP)
    api.start(ann)
    play_hand_to_its_end(api, players)
    version = versions(api, ann.game_id)[0]["version"]
    done = answer(rollback(api, ann.game_id, {"toVersion": version, "reason": "r"}))
    url = f"/api/game/{ann.game_id}/events?after={done['seq'] - 1}"
    status, body = api.stream_until(url, ann.auth, b"snapshot_restored")
    assert status == 200
    assert f"id: {done['seq']}\nevent: snapshot_restored\n".encode() in body


async def test_websockets_get_the_event_and_a_player_not_in_the_restored_state_is_closed() -> None:
    async with running_async() as api, sockets(api.app) as ws:
        game_id = await api.create(seats=3, autoNextHand=False)
        ann, _ = await api.join(game_id, "Ann"), await api.join(game_id, "Bob")
        persisted = await api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH)
        version = answer(persisted)["version"]
        cyd = await api.join(game_id, "Cyd")
        ann_socket, _ = await ws.hello(ann)
        cyd_socket, _ = await ws.hello(cyd)
        body = {"toVersion": version, "reason": "Cyd sat down by mistake"}
        reply = await api.client.post(
            f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH
        )
        done = answer(reply)
        _, frame = await ann_socket.until("event", skip=("ping", "presence"))
        assert frame["seq"] == done["seq"]
        assert frame["event"]["kind"] == "snapshot_restored"
        assert frame["event"]["data"]["version"] == version
        _, close = await cyd_socket.closed(skip=("ping", "presence"))
        assert (close.code, close.reason) == (4403, "player_not_in_game")


def test_a_game_another_live_node_holds_is_left_there_as_the_console_does() -> None:
    store = HeldElsewhere()
    with running(store) as api:
        ann, _ = players = api.table(2, **HEADS_UP)
        api.start(ann)
        play_hand_to_its_end(api, players)
        version = versions(api, ann.game_id)[0]["version"]
        api.forget(ann.game_id)  # in memory on no node of this process
        store.held[ann.game_id] = "n2"
        coordinator = api.services.host.ownership.coordinator = Asked()
        body = {"toVersion": version, "reason": "r"}
        error = assert_error(rollback(api, ann.game_id, body), ErrorCode.GAME_ACTIVE, 409)
        assert error["details"] == {"node": "n2"}
        assert "n2" in error["message"]
        assert coordinator.asked == []  # never asked to hand it over
        assert api.services.host.loaded(ann.game_id) is None
        # The versions are read from the store, wherever the game is played.
        assert versions(api, ann.game_id)[0]["version"] == version
        del store.held[ann.game_id]  # no live node holds it: loaded and rolled back here
        answer(rollback(api, ann.game_id, body))
