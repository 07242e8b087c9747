"""Liar's Dice passes rejoin's engine contract checks (`rejoin_server.testing.engine_contract`),
as any game should: replay equals live, dump/load round trip, redaction, clocks, refusals, over
seeded random games of 2 to 4 players with seeded dice."""

from __future__ import annotations

import random
from typing import Any

import pytest

from liars_dice import LiarsDiceEngine, LiarsDiceGame
from rejoin_server.games import Act, Command, Join, PrivateData, Start
from rejoin_server.testing.engine_contract import check_engine, check_sealing
from rejoin_server.testing.engine_rollback import check_rollback

from .driver import Dice

PLAYERS = ["ann", "bob", "cyd", "dot"]


def pick(schema: dict[str, Any], rng: random.Random) -> Any:
    return rng.randint(schema["minimum"], schema["maximum"])


def play_with(players: list[str]) -> Any:
    def play(game: LiarsDiceGame, rng: random.Random) -> Command | None:
        seated = [p for p in players if game.seat_of(p) is not None]
        if game.status == "waiting":
            if len(seated) < len(players):
                return Join(players[len(seated)], f"Player {len(seated) + 1}")
            return Start(rng.choice(players))
        for player in seated:
            legal = game.view(player)["you"]["legalActions"]
            if legal:
                action = rng.choice(legal)
                fields = {k: pick(s, rng) for k, s in action.get("fields", {}).items()}
                # Now and then a move out of turn, or a bid that may not beat the last: refused.
                actor = player if rng.random() < 0.9 else rng.choice(players)
                return Act(actor, action["type"], fields)
        return None  # between rounds, or nobody may act: the clock is next

    return play


def secrets(game: LiarsDiceGame, player_id: str) -> list[Any]:
    """A player's dice this round, until a challenge reveals them."""
    seat = game.seat_of(player_id)
    if seat is None or game.revealed or seat not in game.rolled:
        return []
    return [{"playerId": player_id, "dice": list(game.rolled[seat])}]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_liars_dice_keeps_the_engine_contract(count: int) -> None:
    engine = LiarsDiceEngine(roll=Dice(seed=count))
    settings = engine.settings(
        {"seats": count, "dice": 2, "actionTimeoutMs": 5_000, "nextRoundDelayMs": 1_000}
    )
    check_engine(engine, settings, PLAYERS[:count], play_with(PLAYERS[:count]), secrets, games=8)


class LeakyEngine(LiarsDiceEngine):
    """The game with `event_for` forgetting to hide the dice: what the checks must catch."""

    def new_game(self, game_id: str, settings: Any) -> LiarsDiceGame:
        game = super().new_game(game_id, settings)
        game.event_for = lambda event, player_id: event  # type: ignore[method-assign]
        return game


def test_the_checks_see_dice_that_leak() -> None:
    engine = LeakyEngine(roll=Dice(seed=1))
    settings = engine.settings({"seats": 2, "dice": 2})
    with pytest.raises(AssertionError, match=r"^\[redaction\]"):
        check_engine(engine, settings, PLAYERS[:2], play_with(PLAYERS[:2]), secrets, games=2)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_liars_dice_keeps_the_rollback_contract(count: int) -> None:
    """A rollback (`snapshot_restored`) takes the game at its version, restarts its clocks from
    the event's `at`, and the log replays from seq 1 to the live game."""
    engine = LiarsDiceEngine(roll=Dice(seed=count))
    settings = engine.settings(
        {"seats": count, "dice": 2, "actionTimeoutMs": 5_000, "nextRoundDelayMs": 1_000}
    )
    check_rollback(engine, settings, PLAYERS[:count], play_with(PLAYERS[:count]), games=6)


def test_the_dice_are_sealed_at_rest() -> None:
    """Its `private_data` takes every die rolled out of what stays plain in the database."""
    engine = LiarsDiceEngine(roll=Dice(seed=3))
    settings = engine.settings({"seats": 3, "dice": 3})
    check_sealing(engine, settings, PLAYERS[:3], play_with(PLAYERS[:3]), secrets, games=4)


class DiceInTheDump(LiarsDiceEngine):
    """A declaration that forgets the dump's dice (`d`): what the check must catch."""

    private_data = PrivateData(events={"dice_rolled": ("dice",)})


def test_dice_left_out_of_the_declaration_are_caught() -> None:
    engine = DiceInTheDump(roll=Dice(seed=3))
    settings = engine.settings({"seats": 3, "dice": 3})
    with pytest.raises(AssertionError, match=r"^\[sealing\].*dump\(\)"):
        check_sealing(engine, settings, PLAYERS[:3], play_with(PLAYERS[:3]), secrets, games=4)
