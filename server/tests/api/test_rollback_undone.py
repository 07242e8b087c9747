"""An action a rollback undid: resent, it is answered `stale_state` ("rolled back past"), never
"duplicate" and never applied anew, over HTTP and the WebSocket, before and after a restart
(the rollbacks stored before the load are read from the store); an action the state still holds
stays a duplicate, also once a later rollback goes back to a version that holds it again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.host.lineage import Lineage
from rejoin_server.store.memory import MemoryGameStore

from .support import (
    ADMIN_AUTH,
    Api,
    Player,
    answer,
    assert_error,
    read_stream,
    running,
    running_async,
)
from .test_rollback import HEADS_UP, rollback, serving, versions
from .ws_support import resumed, sockets


def act(api: Api, player: Player, action_id: str, type_: str = "call") -> Any:
    return api.client.post(
        f"/api/game/{player.game_id}/action",
        json={"actionId": action_id, "type": type_},
        headers=player.auth,
    )


def rolled_back_past(reply: Any) -> None:
    error = assert_error(reply, ErrorCode.STALE_STATE)
    assert "rolled the game back past this action" in error["message"]
    assert "act again" in error["message"]


def test_a_resent_action_the_rollback_undid_is_stale_before_and_after_a_restart(
    database_url: str,
) -> None:
    with serving(database_url) as api:
        ann, _ = players = api.table(2, **HEADS_UP)
        game_id = ann.game_id
        api.start(ann)
        folder = api.to_act(players)
        kept = answer(act(api, folder, "A0", "fold"))["seq"]  # hand 1 ends
        version = versions(api, game_id)[0]["version"]
        assert version >= kept
        api.start(ann)
        actor = api.to_act(players)
        undone = answer(act(api, actor, "A1"))["seq"]
        assert undone > version
        done = answer(rollback(api, game_id, {"toVersion": version, "reason": "r"}))
        rolled_back_past(act(api, actor, "A1"))
        assert api.state(ann)["gameState"]["seq"] == done["seq"]  # not applied anew
        again = answer(act(api, folder, "A0", "fold"))
        assert (again["seq"], again["duplicate"]) == (kept, True)  # still in the state
    with serving(database_url) as api:  # a restart: the rollback is read from the store
        rolled_back_past(act(api, actor, "A1"))
        assert api.state(ann)["gameState"]["seq"] == done["seq"]
        again = answer(act(api, folder, "A0", "fold"))
        assert (again["seq"], again["duplicate"]) == (kept, True)


async def test_over_the_websocket_before_and_after_a_restart() -> None:
    store = MemoryGameStore()
    async with running_async(store) as api, sockets(api.app) as ws:
        game_id = await api.create(seats=2, autoNextHand=False, startingStack=100)
        players = [await api.join(game_id, "Ann"), await api.join(game_id, "Bob")]
        version = answer(await api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH))[
            "version"
        ]
        started = answer(
            await api.client.post(f"/api/game/{game_id}/start", headers=players[0].auth)
        )
        seat = (await api.state(players[0]))["gameState"]["toAct"]
        actor = next(p for p in players if p.seat == seat)
        client, welcome = await ws.hello(actor)
        actor = resumed(actor, welcome)
        frame = {"type": "action", "actionId": "W1", "action": {"type": "call"}}
        await client.send_json(frame)
        _, ack = await client.until("ack")
        assert ack["seq"] > started["seq"]
        body = {"toVersion": version, "reason": "r"}
        answer(
            await api.client.post(f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH)
        )
        await client.send_json(frame)
        _, error = await client.until("error", skip=("ping", "presence", "event"))
        assert error["code"] == "stale_state"
        assert "rolled the game back past this action" in error["message"]
    async with running_async(store) as api, sockets(api.app) as ws:
        client, _ = await ws.hello(actor)
        await client.send_json(frame)
        _, error = await client.until("error", skip=("ping", "presence", "event"))
        assert error["code"] == "stale_state"
        assert "rolled the game back past this action" in error["message"]


def test_a_rollback_to_a_version_that_holds_the_action_again_makes_it_a_duplicate() -> None:
    lineage = Lineage()
    lineage.rolled_back(20, 10)  # undoes 11..19
    assert not lineage.holds(16, head=20)
    assert lineage.holds(10, head=20)
    lineage.rolled_back(25, 18)  # back to the state at 18, before the first rollback: holds 16
    assert lineage.holds(16, head=25)
    assert not lineage.holds(19, head=25)
    assert not lineage.holds(22, head=25)


def test_a_relaxed_game_answers_the_same() -> None:
    with running() as api:
        ann, _ = players = api.table(2, durability="relaxed", **HEADS_UP)
        version = answer(api.client.post(f"/api/game/{ann.game_id}/persist", headers=ADMIN_AUTH))[
            "version"
        ]
        api.start(ann)
        actor = api.to_act(players)
        answer(act(api, actor, "R1"))
        answer(rollback(api, ann.game_id, {"toVersion": version, "reason": "r"}))
        rolled_back_past(act(api, actor, "R1"))


async def test_the_event_stream_of_a_player_the_rollback_unseats_ends_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_async() as api:
        game_id = await api.create(seats=3, autoNextHand=False)
        await api.join(game_id, "Ann")
        await api.join(game_id, "Bob")
        version = answer(await api.client.post(f"/api/game/{game_id}/persist", headers=ADMIN_AUTH))[
            "version"
        ]
        cyd = await api.join(game_id, "Cyd")
        live = api.services.host.loaded(game_id)
        assert live is not None
        path = f"/api/game/{game_id}/events?after={version}"
        host = api.services.host
        subscribed = asyncio.Event()
        subscribe = host.subscribe

        def noted(*args: Any, **kw: Any) -> Any:
            subscriber = subscribe(*args, **kw)
            subscribed.set()
            return subscriber

        monkeypatch.setattr(host, "subscribe", noted)
        # Read until the stream ends (the marker never comes; the bound only guards a hang).
        reading = asyncio.create_task(read_stream(api.app, path, cyd.auth, b"\x00", 60))
        await subscribed.wait()
        body = {"toVersion": version, "reason": "Cyd sat down by mistake"}
        reply = await api.client.post(
            f"/api/game/{game_id}/rollback", json=body, headers=ADMIN_AUTH
        )
        answer(reply)
        status, got = await asyncio.wait_for(reading, 30)
        assert status == 200
        assert b": connected" in got
        assert f"id: {version + 1}\n".encode() in got  # Cyd's join, from the backlog
        assert b"snapshot_restored" not in got  # the stream ended before it
        assert not any(s.player_id == cyd.player_id for s in live.subscribers)
        reply = await api.client.get(f"/api/game/{game_id}/state", headers=cyd.auth)
        assert_error(reply, ErrorCode.PLAYER_NOT_IN_GAME)
