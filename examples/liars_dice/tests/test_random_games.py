"""Complete games of random legal moves and timeouts, to the end: every challenge is judged by the
dice it reveals and costs exactly one die, the turn never goes to a player who is out, and the game
ends with one player holding dice, the winner."""

from __future__ import annotations

import random

import pytest

from .driver import Driver


@pytest.mark.parametrize("seed", range(40))
def test_a_random_game_plays_to_its_end_by_the_rules(seed: int) -> None:
    rng = random.Random(seed)
    players, dice = rng.randint(2, 6), rng.randint(1, 5)
    game = Driver(players=players, seats=6, dice=dice, seed=seed)
    game.start()
    total = players * dice
    while game.step(rng):
        seat = game.to_act
        if seat is not None:
            assert game.game.players[seat].dice_count > 0
        assert game.view()["diceInPlay"] <= total
    state = game.game
    assert state.status == "completed"
    assert state.phase == "completed"
    (winner,) = state.seats_with_dice()
    assert state.winner == winner
    assert game.log[-1].kind == "game_completed"
    assert game.log[-1].data == {"seat": winner, "playerId": game.player_at(winner)}

    challenges = [e.data for e in game.log if e.kind == "challenged"]
    assert len(challenges) == total - state.players[winner].dice_count
    for challenge in challenges:
        face, count = challenge["bid"]["face"], challenge["bid"]["count"]
        shown = [die for hand in challenge["reveal"] for die in hand["dice"]]
        assert challenge["matching"] == shown.count(face)
        held = challenge["matching"] >= count
        assert challenge["loser"] == (challenge["seat"] if held else challenge["bid"]["seat"])
    rounds = [e.data for e in game.log if e.kind == "round_started"]
    assert len(rounds) == len(challenges)
    assert [r["round"] for r in rounds] == list(range(1, len(rounds) + 1))
    game.assert_consistent()
