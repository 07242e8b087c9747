"""Replaying the log rebuilds the live game at every step, and `apply` refuses an event that does not
fit the game (wrong seq, unknown kind, malformed or impossible data) without changing it."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from liars_dice import LiarsDiceGame
from rejoin_server.games import Event

from .driver import GAME_ID, Driver


@pytest.mark.parametrize("seed", range(10))
def test_replay_and_reload_equal_the_live_game_after_every_command(seed: int) -> None:
    rng = random.Random(seed)
    game = Driver(players=rng.randint(2, 6), seats=6, dice=rng.randint(1, 3), seed=seed)
    game.start()
    replay = game.engine.new_game(GAME_ID, game.settings)
    applied = 0
    while game.step(rng):
        for event in game.log[applied:]:
            replay.apply(event)
        applied = len(game.log)
        assert replay.dump() == game.game.dump()
        assert replay.view(None) == game.game.view(None)
        reloaded = game.reloaded()
        assert reloaded.dump() == game.game.dump()
        assert reloaded.view(game.players[0]) == game.game.view(game.players[0])
    game.assert_consistent()


def test_a_replay_stopped_at_any_event_dumps_and_reloads_to_itself() -> None:
    game = Driver(players=3, dice=2, seed=3)
    game.start()
    game.play_out(random.Random(3))
    for upto in range(len(game.log) + 1):
        partial = game.replayed(upto)
        again = game.engine.load(GAME_ID, game.game_settings(), partial.dump())
        assert again.dump() == partial.dump()
        assert again.view(None) == partial.view(None)


def bidding() -> tuple[Driver, LiarsDiceGame]:
    game = Driver(players=2, dice=2)
    game.start([1, 2], [2, 3])
    game.bid(1, 2)
    return game, game.game


def event(game: LiarsDiceGame, kind: str, data: dict[str, Any], at: int = 0) -> Event:
    return Event(seq=game.seq + 1, kind=kind, at=at, data=data)


def challenge(loser: int, reveal: list[list[int]]) -> dict[str, Any]:
    """Seat 1 challenging seat 0's 1 x 2 with two 2s on the table: the challenger loses."""
    return {
        "round": 1,
        "seat": 1,
        "bid": {"seat": 0, "count": 1, "face": 2},
        "matching": 2,
        "loser": loser,
        "reveal": [{"seat": seat, "dice": dice} for seat, dice in enumerate(reveal)],
    }


BAD_EVENTS = [
    pytest.param("bid", {"seat": 1, "count": 1, "face": 2}, "Bid higher", id="bid-not-higher"),
    pytest.param("bid", {"seat": 0, "count": 2, "face": 2}, "seat 1 was to act", id="bid-turn"),
    pytest.param("bid", {"seat": 1, "count": 5, "face": 2}, "from 1 to 4", id="bid-count"),
    pytest.param("bid", {"seat": 1, "count": 2, "face": 7}, "face", id="bid-face"),
    pytest.param("bid", {"seat": 1, "count": "2", "face": 3}, "count", id="bid-malformed"),
    pytest.param("dice_rolled", {"seat": 1, "playerId": "p1", "dice": [1, 1]}, "roll", id="roll"),
    pytest.param("round_started", {"round": 2, "seats": [1, 0]}, "still being", id="round"),
    pytest.param(
        "player_joined", {"seat": 1, "playerId": "x", "name": "X", "dice": 2}, "join", id="join"
    ),
    pytest.param("timeout", {"seat": 1, "action": "bid"}, "clock runs out", id="timeout-early"),
    pytest.param(
        "challenged",
        challenge(loser=0, reveal=[[1, 2], [2, 3]]),
        "seat 1 loses",
        id="challenge-wrong-loser",
    ),
    pytest.param(
        "challenged",
        challenge(loser=1, reveal=[[6, 6], [2, 3]]),
        "not the dice rolled",
        id="challenge-other-dice",
    ),
    pytest.param("game_completed", {"seat": 0, "playerId": "p0"}, "last one", id="no-winner-yet"),
    pytest.param("game_completed", {"reason": ""}, "reason", id="empty-reason"),
    pytest.param("fold", {}, "unknown kind", id="unknown-kind"),
]


@pytest.mark.parametrize(("kind", "data", "message"), BAD_EVENTS)
def test_apply_refuses_an_event_that_does_not_fit(
    kind: str, data: dict[str, Any], message: str
) -> None:
    driver, game = bidding()
    before = game.dump()
    with pytest.raises(ValueError, match=r"cannot be applied|unknown kind") as caught:
        game.apply(event(game, kind, data, at=driver.now))
    assert message in str(caught.value)
    assert game.dump() == before
    driver.assert_consistent()


def test_apply_refuses_a_seq_out_of_order() -> None:
    _, game = bidding()
    good = event(game, "bid", {"seat": 1, "count": 2, "face": 2})
    for seq in (game.seq, game.seq + 2):
        with pytest.raises(ValueError, match="cannot follow"):
            game.apply(replace(good, seq=seq))
    game.apply(good)


def test_nothing_applies_after_the_end_of_the_game() -> None:
    driver, game = bidding()
    driver.abandon()
    with pytest.raises(ValueError, match="follows the end of the game"):
        game.apply(event(game, "bid", {"seat": 1, "count": 2, "face": 2}))
