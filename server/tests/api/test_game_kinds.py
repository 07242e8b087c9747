"""Serving games of more than one kind: `POST /api/games {kind}`, `GET /api/games/kinds`, the
action's own fields reaching the game, a stored game of a kind the server does not serve, and a
game whose own code fails."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.games import Act, Command, Event, Join, JsonDict
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.host.host import GameHost
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.memory import MemoryGameStore

from .support import answer, assert_error, joined, running
from .tally_game import TallyEngine, TallyState


def test_the_kinds_served_are_listed_with_their_settings_poker_first() -> None:
    with running(games=[TallyEngine()]) as api:
        kinds = answer(api.client.get("/api/games/kinds"))["kinds"]
    assert [k["kind"] for k in kinds] == ["poker", "tally"]
    assert kinds[1]["settings"]["properties"] == {
        "target": {"type": "integer", "minimum": 1, "maximum": 10**6}
    }
    assert "seats" in kinds[0]["settings"]["properties"]


def test_a_game_of_another_kind_is_made_with_its_settings_and_played_with_its_fields() -> None:
    with running(games=[TallyEngine()]) as api:
        created = answer(api.client.post("/api/games", json={"kind": "tally", "target": 7}), 201)
        assert created == {
            "gameId": created["gameId"],
            "kind": "tally",
            "status": "playing",
            "durability": "strict",
            "target": 7,
        }
        game_id = created["gameId"]
        player = joined(game_id, api.client.post(f"/api/game/{game_id}/join", json={"name": "A"}))
        url = f"/api/game/{game_id}/action"
        body = {"actionId": "a1", "type": "add", "n": 5}
        assert answer(api.client.post(url, json=body, headers=player.auth))["seq"] == 2
        refused = {"actionId": "a2", "type": "add", "n": "5"}  # the game checks its fields
        assert_error(api.client.post(url, json=refused, headers=player.auth), "invalid_action")
        state = answer(api.client.get(f"/api/game/{game_id}/state", headers=player.auth))
        # The game's view, and its durability, which the server adds to every kind's.
        assert state["gameState"] == {
            "total": 5,
            "seq": 2,
            "status": "playing",
            "durability": "strict",
        }
        # Poker is still the default kind.
        poker = answer(api.client.post("/api/games", json={}), 201)
        assert poker["kind"] == "poker"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "chess"}, "no game of kind 'chess'; it serves: poker, tally"),
        ({"kind": 3}, "`kind` must be the name of a kind of game, one of poker, tally"),
        ({"kind": None}, "`kind` must be the name of a kind of game"),
        ({"kind": ""}, "This server has no game of kind ''"),
        ({"kind": "tally", "target": 0}, "only `target`, 1 to 10⁶"),
        ({"kind": "tally", "seats": 2}, "only `target`"),
        ({"kind": "poker", "target": 2}, "target"),
    ],
)
def test_an_unknown_kind_or_bad_settings_are_refused_naming_what_to_send(
    body: dict[str, object], words: str
) -> None:
    with running(games=[TallyEngine()]) as api:
        error = assert_error(api.client.post("/api/games", json=body), ErrorCode.INVALID_REQUEST)
    assert words in error["message"], error


def test_a_stored_game_of_a_kind_not_served_answers_invalid_request_naming_it() -> None:
    store = MemoryGameStore()
    with running(store, games=[TallyEngine()]) as api:
        game_id = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        player = joined(game_id, api.client.post(f"/api/game/{game_id}/join", json={"name": "A"}))
    with running(store) as api:  # the same store, a server without the tally engine
        for reply in (
            api.client.get(f"/api/game/{game_id}/state", headers=player.auth),
            api.client.post(f"/api/game/{game_id}/join", json={"name": "B"}),
            api.client.get(
                f"/api/game/{game_id}/restore",
                headers={"Authorization": "Bearer admin-secret-token"},
            ),
        ):
            error = assert_error(reply, ErrorCode.INVALID_REQUEST)
            assert "kind 'tally', which this server does not serve" in error["message"]
            assert "--game" in error["message"]
            assert error["details"] == {"kind": "tally", "kinds": ["poker"]}
        # Claimed to be read, then let go: a node that serves the kind may take it.
        record = api.run(store.get_game, game_id)
        assert record is not None
        assert record.owner is None
    with running(store, games=[TallyEngine()]) as api:  # served again: the game is all there
        state = answer(api.client.get(f"/api/game/{game_id}/state", headers=player.auth))
        assert state["seq"] == 1


def test_a_game_that_fails_on_a_command_answers_internal_and_goes_on_as_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running(games=[TallyEngine()]) as api:
        game_id = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        player = joined(game_id, api.client.post(f"/api/game/{game_id}/join", json={"name": "A"}))
        url = f"/api/game/{game_id}/action"
        api.client.post(url, json={"actionId": "a1", "type": "add", "n": 2}, headers=player.auth)
        with caplog.at_level(logging.ERROR):
            reply = api.client.post(
                url, json={"actionId": "b", "type": "boom"}, headers=player.auth
            )
        error = assert_error(reply, ErrorCode.INTERNAL)
        assert "Traceback" not in reply.text
        assert "ZeroDivision" not in reply.text
        assert "goes on as it was before it" in error["message"]
        logged = [r for r in caplog.records if game_id in r.getMessage()]
        assert logged
        assert "ZeroDivisionError" in logged[0].getMessage()
        # The half-made change is gone (the game reloaded from the store) and play goes on.
        body = {"actionId": "a3", "type": "add", "n": 3}
        assert answer(api.client.post(url, json=body, headers=player.auth))["seq"] == 3
        state = answer(api.client.get(f"/api/game/{game_id}/state", headers=player.auth))
        assert state["gameState"]["total"] == 5


def test_an_engine_given_for_poker_replaces_the_reference_one() -> None:
    class Mine(PokerEngine):
        pass

    with running(games=[Mine()]) as api:
        assert isinstance(api.services.host.games.engine("poker"), Mine)
        kinds = answer(api.client.get("/api/games/kinds"))["kinds"]
    assert [k["kind"] for k in kinds] == ["poker"]


class SharedDumpTally(TallyEngine):
    """A tally whose dump shares its players' dict with the state: careless, but a game may."""

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> TallyState:
        state = super().new_game(game_id, settings)
        state.dump = lambda: {"total": state.total, "seq": state.seq, "players": state.players}  # type: ignore[method-assign]
        return state


async def test_a_join_refused_after_the_game_took_it_is_undone_even_with_a_shared_dump() -> None:
    host = GameHost(MemoryGameStore(), GameKinds([SharedDumpTally()]), ServerSettings(), Metrics())
    live = await host.create_game({}, "tally")

    async def no_room_for_the_token() -> None:
        raise ApiError(ErrorCode.STORAGE_UNAVAILABLE, "the token row could not be stored")

    with pytest.raises(ApiError):
        await host.execute(live.game_id, Join("p1", "Ann"), prepare=no_room_for_the_token)
    game = await host.get(live.game_id)
    assert game.state.seat_of("p1") is None
    assert game.state.seq == 0
    await host.execute(live.game_id, Join("p2", "Bob"))
    assert game.state.seat_of("p2") == 0
    await host.stop(flush_timeout_s=1.0)


class OddTally(TallyEngine):
    """A tally whose `odd` move makes an event the store cannot write (a set in its data), and
    whose dump fails once the total passes 100: two more ways a game's own code can fail."""

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> TallyState:
        state = super().new_game(game_id, settings)
        handle, dump = state.handle, state.dump

        def odd_handle(command: Command, now_ms: int) -> list[Event]:
            if isinstance(command, Act) and command.type == "odd":
                event = Event(state.seq + 1, "added", now_ms, {"n": 1, "tags": {"a", "b"}})
                state.apply(event)
                return [event]
            return handle(command, now_ms)

        def failing_dump() -> JsonDict:
            if state.total > 100:
                raise RuntimeError("the dump failed")
            return dump()

        state.handle = odd_handle  # type: ignore[method-assign]
        state.dump = failing_dump  # type: ignore[method-assign]
        return state


def test_an_event_the_store_cannot_write_fails_its_command_and_changes_nothing() -> None:
    with running(games=[OddTally()], snapshot_every=1) as api:
        game_id = answer(api.client.post("/api/games", json={"kind": "tally"}), 201)["gameId"]
        player = joined(game_id, api.client.post(f"/api/game/{game_id}/join", json={"name": "A"}))
        url = f"/api/game/{game_id}/action"
        odd = {"actionId": "o1", "type": "odd"}
        assert_error(api.client.post(url, json=odd, headers=player.auth), ErrorCode.INTERNAL)
        state = answer(api.client.get(f"/api/game/{game_id}/state", headers=player.auth))
        assert (state["seq"], state["gameState"]["total"]) == (1, 0)  # as stored, nothing more
        add = {"actionId": "a1", "type": "add", "n": 101}  # past 100: the dump fails from here
        assert answer(api.client.post(url, json=add, headers=player.auth))["seq"] == 2
        add = {"actionId": "a2", "type": "add", "n": 1}
        assert answer(api.client.post(url, json=add, headers=player.auth))["seq"] == 3
        api.forget(game_id)  # reloaded from the store: the log, without the snapshots it lacks
        state = answer(api.client.get(f"/api/game/{game_id}/state", headers=player.auth))
        assert (state["seq"], state["gameState"]["total"]) == (3, 102)
