"""`dump()` is small, JSON-only data that `load` turns back into the same game in every phase; a dump
that is not one is refused with ValueError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from liars_dice import LiarsDiceEngine

from .driver import GAME_ID, Driver


def only_json_types(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_json_types(v) for v in value)
    return value is None or isinstance(value, (str, int))


def phases() -> list[tuple[str, Driver]]:
    """One game in each phase, the full table of 6 seats of 10 dice (the largest dump)."""
    out = []
    game = Driver(players=6, seats=6, dice=10)
    out.append(("waiting", game))
    game = Driver(players=6, seats=6, dice=10)
    game.start()
    game.bid(3, 4)
    out.append(("bidding", game))
    game = Driver(players=6, seats=6, dice=10)
    game.start()
    game.bid(3, 4)
    game.challenge()
    out.append(("revealed", game))
    game = Driver(players=2, dice=1)
    game.start([1], [2])
    game.bid(1, 1)
    game.challenge()
    out.append(("completed", game))
    game = Driver(players=3, dice=4)
    game.start()
    game.abandon()
    out.append(("completed", game))
    return out


@pytest.mark.parametrize(("phase", "game"), phases())
def test_a_dump_is_compact_json_that_loads_back_to_the_same_game(phase: str, game: Driver) -> None:
    assert game.game.phase == phase
    dump = game.game.dump()
    assert only_json_types(dump)
    text = json.dumps(dump, separators=(",", ":"))
    assert json.loads(text) == dump
    assert len(text) <= 400, text
    game.assert_consistent()
    reloaded = game.engine.load(GAME_ID, game.game_settings(), json.loads(text))
    assert reloaded.dump() == dump


def test_a_loaded_game_plays_on() -> None:
    game = Driver(players=3, dice=2)
    game.start([1, 2], [3, 4], [5, 6])
    game.bid(1, 3)
    game.game = game.reloaded()
    game.bid(2, 3)
    game.challenge()
    assert game.log[-1].data["loser"] == 1  # one 3 on the table: the bidder, seat 1, loses
    game.assert_consistent()


def tampered(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    game = Driver(players=3, dice=2)
    game.start([1, 2], [3, 4], [5, 6])
    game.bid(1, 3)
    dump: dict[str, Any] = json.loads(json.dumps(game.game.dump()))
    change(dump)
    return dump


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda dump: dump.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda dump: dump.pop(key)


BAD_DUMPS = [
    pytest.param(_set("v", 2), id="version"),
    pytest.param(_drop("q"), id="no-seq"),
    pytest.param(_set("q", -1), id="negative-seq"),
    pytest.param(_set("st", "x"), id="status"),
    pytest.param(_set("r", True), id="round-bool"),
    pytest.param(_set("p", [[0, "p0", "A", 2], [0, "p1", "B", 2]]), id="seat-twice"),
    pytest.param(_set("p", [[9, "p0", "A", 2]]), id="seat-range"),
    pytest.param(_set("p", [[0, "p0", "x" * 33, 2]]), id="long-name"),
    pytest.param(_set("p", [[0, "p0", "A", 3]]), id="too-many-dice"),
    pytest.param(_set("p", [[0, 7, "A", 2]]), id="player-id"),
    pytest.param(_set("d", ["12", "37", "56"]), id="die-7"),
    pytest.param(_set("d", ["12", "3a", "56"]), id="die-letter"),
    pytest.param(_set("d", ["12", "", "56"]), id="no-dice"),
    pytest.param(_set("d", ["12", "34", "56", "11"]), id="more-rolls-than-seats"),
    pytest.param(_set("o", [0, 1, 5]), id="order-nobody"),
    pytest.param(_set("a", 5), id="actor-nobody"),
    pytest.param(_set("b", [0, 1]), id="bid-short"),
    pytest.param(_set("b", [0, 1, 9]), id="bid-face"),
    pytest.param(_set("dl", "soon"), id="deadline"),
    pytest.param(_set("lc", [1, 0, 1, 3, 2]), id="challenge-short"),
]


@pytest.mark.parametrize("change", BAD_DUMPS)
def test_a_dump_that_is_not_one_is_refused(change: Callable[[dict[str, Any]], None]) -> None:
    dump = tampered(change)
    with pytest.raises(ValueError, match="not a valid liars-dice dump"):
        LiarsDiceEngine().load(GAME_ID, {"dice": 2}, dump)


def test_stored_settings_that_are_not_settings_are_refused() -> None:
    dump = tampered(lambda dump: None)
    LiarsDiceEngine().load(GAME_ID, {"dice": 2}, dump)  # the untampered dump loads
    with pytest.raises(ValueError, match="stored settings are invalid"):
        LiarsDiceEngine().load(GAME_ID, {"dice": 99}, dump)
