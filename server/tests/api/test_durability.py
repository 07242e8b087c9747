"""Durability per game over HTTP and WebSocket (docs/http-api.md, `POST /api/games`;
docs/games.md, "Rolling out"): `durability` when creating a game, the rollout rule for games that
do not say, what every answer says of it, and games kept in memory only: no row, event or token
in the store, their players reconnecting while the server lives, and `game_not_found` saying why
once it has restarted."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.host import live as live_module
from rejoin_server.store.memory import MemoryGameStore

from .support import (
    ADMIN_AUTH,
    Api,
    Player,
    answer,
    assert_error,
    bearer,
    running,
    running_async,
)
from .ws_support import hello_frame, sockets

TABLE = {"seats": 3, "actionTimeoutMs": 600_000, "autoNextHand": False}
EXPLAINED = "kept in memory only"


def created(api: Api, **body: Any) -> dict[str, Any]:
    return answer(api.client.post("/api/games", json={**TABLE, **body}), 201)


def players_of(api: Api, game_id: str, count: int = 2) -> list[Player]:
    return [api.join(game_id, f"Player {n}") for n in range(count)]


def test_a_game_created_with_a_durability_says_it_in_every_answer(api: Api) -> None:
    for durability in ("memory", "relaxed", "strict"):
        game = created(api, durability=durability)
        assert game["durability"] == durability
        assert game["gameId"].startswith("mem-") == (durability == "memory")
        first, second = players_of(api, game["gameId"])
        assert api.state(first)["gameState"]["durability"] == durability
        reconnected = answer(api.reconnect(second, lastSeq=0))
        assert reconnected["gameState"]["durability"] == durability
        restored = answer(api.client.get(f"/api/game/{game['gameId']}/restore", headers=first.auth))
        assert restored["gameState"]["durability"] == durability
        assert restored["durability"] == durability


@pytest.mark.parametrize("bad", ["eventual", "MEMORY", "", None, 1, True, ["memory"], {"a": 1}])
def test_a_durability_that_is_not_one_of_the_three_is_invalid_request(api: Api, bad: Any) -> None:
    error = assert_error(
        api.client.post("/api/games", json={"durability": bad}), ErrorCode.INVALID_REQUEST
    )
    for named in ("memory", "relaxed", "strict"):
        assert named in error["message"]
    assert api.services.host.games_active == 0


def test_durability_is_the_servers_not_a_setting_of_the_game(api: Api) -> None:
    game = created(api, durability="relaxed")
    live = api.services.host.loaded(game["gameId"])
    assert live is not None
    assert "durability" not in live.settings  # the engine never saw it
    settings = {k: v for k, v in game.items() if k not in ("gameId", "kind", "status")}
    assert settings == {**live.settings, "durability": "relaxed"}


def test_the_rollout_rule_chooses_for_games_that_do_not_say() -> None:
    with running(persist_fraction=0.0) as api:
        assert created(api)["durability"] == "memory"
        assert created(api, durability="strict")["durability"] == "strict"
        health = answer(api.client.get("/healthz"))
        assert health["persistFraction"] == 0.0
    with running(persist_fraction=1.0, durability="relaxed") as api:
        assert created(api)["durability"] == "relaxed"
        assert created(api, durability="memory")["durability"] == "memory"


def test_healthz_counts_the_games_by_durability() -> None:
    with running(persist_fraction=0.0) as api:
        assert answer(api.client.get("/healthz"))["gamesByDurability"] == {
            "memory": 0,
            "relaxed": 0,
            "strict": 0,
        }
        created(api)
        created(api)
        created(api, durability="relaxed")
        created(api, durability="strict")
        health = answer(api.client.get("/healthz"))
        assert health["gamesByDurability"] == {"memory": 2, "relaxed": 1, "strict": 1}
        assert health["gamesActive"] == 4
        metrics = api.client.get("/metrics", headers=ADMIN_AUTH).text
        assert 'rejoin_games_by_durability{durability="memory"} 2.0' in metrics


def test_a_memory_game_writes_nothing_and_its_players_reconnect(api: Api) -> None:
    store = api.services.store
    game_id = created(api, durability="memory")["gameId"]
    first, second = players_of(api, game_id)
    api.start(first)
    mover = api.to_act([first, second])
    acted = answer(api.act(mover, "call"))
    assert acted["durable"] is False
    assert api.run(store.get_game, game_id) is None
    assert api.run(store.read_events, game_id, 0) == []
    now = api.services.host.clock()
    assert api.run(store.current_token, game_id, first.player_id, now) is None
    assert api.run(api.services.host.memory_tokens.current_token, game_id, first.player_id, now)

    # The reconnect rules hold as for a stored game: a token is used once, its successor works.
    back = answer(api.reconnect(first, lastSeq=0))
    assert [e["seq"] for e in back["missedEvents"]] == list(range(1, acted["seq"] + 1))
    assert_error(api.reconnect(first, lastSeq=0, clientId="someone-else"), ErrorCode.SEAT_CONFLICT)
    again = answer(api.reconnect(first, back["connectionToken"]["token"], lastSeq=acted["seq"]))
    assert again["missedEvents"] == []
    token = answer(
        api.client.get(
            f"/api/game/{game_id}/connection-token",
            headers={"Authorization": f"Bearer {again['sessionToken']}"},
        )
    )
    assert token["token"] == again["connectionToken"]["token"]


def test_a_memory_game_cannot_be_persisted_is_restored_from_memory_and_deleted(api: Api) -> None:
    game_id = created(api, durability="memory")["gameId"]
    first, _ = players_of(api, game_id)
    url = f"/api/game/{game_id}/persist"
    error = assert_error(api.client.post(url, headers=ADMIN_AUTH), ErrorCode.INVALID_REQUEST)
    assert "memory only" in error["message"]
    restored = answer(api.client.get(f"/api/game/{game_id}/restore", headers=ADMIN_AUTH))
    assert restored["persistedAt"] is None
    assert restored["durableVersion"] == 0
    assert restored["version"] == 2
    deleted = answer(api.client.delete(url, headers=ADMIN_AUTH))
    assert deleted["deleted"] == {"events": 2, "snapshots": 0, "tokens": 2}
    state = api.client.get(f"/api/game/{game_id}/state", headers=first.auth)
    error = assert_error(state, ErrorCode.GAME_NOT_FOUND)
    assert EXPLAINED in error["message"]


def test_events_older_than_a_memory_game_keeps_are_stale_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live_module, "RECENT_EVENTS", 3)
    with running() as api:
        game_id = created(api, durability="memory")["gameId"]
        first, _, _ = players_of(api, game_id, 3)
        seq = api.start(first)["seq"]
        url = f"/api/game/{game_id}/events"
        as_json = {**first.auth, "Accept": "application/json"}
        page = answer(api.client.get(f"{url}?after={seq - 3}", headers=as_json))
        assert [e["seq"] for e in page["events"]] == [seq - 2, seq - 1, seq]
        error = assert_error(api.client.get(f"{url}?after=0", headers=as_json), "stale_state")
        assert "memory only" in error["message"]
        # An event stream is refused before it begins, not broken off once it has.
        status, body = api.stream_until(f"{url}?after=0", first.auth, b"stale_state")
        assert status == 409
        assert b"memory only" in body
        status, body = api.stream_until(f"{url}?after={seq - 3}", first.auth, f"id: {seq}".encode())
        assert status == 200
        assert f"id: {seq - 2}\n".encode() in body


def test_after_a_restart_a_memory_game_is_gone_and_says_so_a_strict_one_resumes() -> None:
    store = MemoryGameStore()
    with running(store) as api:
        strict = created(api, durability="strict")["gameId"]
        memory = created(api, durability="memory")["gameId"]
        strict_players, memory_players = players_of(api, strict), players_of(api, memory)
        api.start(strict_players[0])
        api.start(memory_players[0])
        seq = api.state(strict_players[0])["seq"]
    with running(store) as restarted:  # the same store, a new server: memory is gone
        back = answer(restarted.reconnect(strict_players[1], lastSeq=0))
        assert back["seq"] == seq
        assert back["gameState"]["durability"] == "strict"
        player = memory_players[1]
        for reply in (
            restarted.reconnect(player, lastSeq=0),
            restarted.client.get(f"/api/game/{memory}/state", headers=player.auth),
            restarted.client.post(f"/api/game/{memory}/join", json={"name": "Late"}),
            restarted.client.get(f"/api/game/{memory}/restore", headers=ADMIN_AUTH),
            restarted.client.delete(f"/api/game/{memory}/persist", headers=ADMIN_AUTH),
        ):
            error = assert_error(reply, ErrorCode.GAME_NOT_FOUND)
            assert EXPLAINED in error["message"]
            assert "restarts" in error["message"]
        # A stored game that does not exist is not said to have been a memory game.
        never = "/api/game/ae82c17bf2a349cf879268440b48b7d9/join"
        missing = restarted.client.post(never, json={"name": "A"})
        assert EXPLAINED not in assert_error(missing, ErrorCode.GAME_NOT_FOUND)["message"]


async def test_after_a_restart_a_memory_games_websocket_is_refused_with_4404_and_why() -> None:
    store = MemoryGameStore()
    async with running_async(store) as api:
        game_id = await api.create(durability="memory", **TABLE)
        player = await api.join(game_id)
    async with running_async(store) as restarted, sockets(restarted.app) as ws:
        close, error = await ws.refused(game_id, hello_frame(player))
    assert close.code == 4404
    assert error["code"] == "game_not_found"
    assert EXPLAINED in error["message"]


async def test_a_login_takes_back_its_seat_in_a_memory_game_without_the_store() -> None:
    secret = "a-shared-secret-of-forty-characters-xyz!"
    claims = {"sub": "auth0|alice", "name": "Alice", "aud": "rejoin", "exp": int(time.time()) + 600}
    alice = bearer(jwt.encode(claims, secret, algorithm="HS256"))
    async with running_async(auth_jwt_secret=secret, auth_jwt_audience="rejoin") as api:
        game_id = await api.create(durability="memory", **TABLE)
        url = f"/api/game/{game_id}"
        first = (await api.client.post(f"{url}/join", json={}, headers=alice)).json()
        again = await api.client.post(f"{url}/reclaim", headers=alice)
        assert again.status_code == 200, again.text
        # The first device's token was used up in the login's favour, in memory: a moment ago,
        # so its use now is a race for the seat (the same rule as a stored game's).
        body = {"playerId": "auth0|alice", "reconnectToken": first["connectionToken"]["token"]}
        reply = await api.client.post(f"{url}/reconnect", json=body)
        assert_error(reply, ErrorCode.SEAT_CONFLICT)
        now = api.services.host.clock()
        assert await api.services.store.current_token(game_id, "auth0|alice", now) is None
        memory_tokens = api.services.host.memory_tokens
        assert await memory_tokens.current_token(game_id, "auth0|alice", now) is not None
