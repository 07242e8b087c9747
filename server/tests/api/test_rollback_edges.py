"""The edges of an operator's rollback over HTTP: a stored game of a kind this server does not
serve, a game kept in memory only that this server does not hold, and what the body takes."""

from __future__ import annotations

from rejoin_protocol.errors import ErrorCode
from rejoin_server.store.memory import MemoryGameStore

from .support import ADMIN_AUTH, answer, assert_error, running
from .tally_game import TallyEngine


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
