"""The browser test's tiny game (e2e/support/guess_game.py) keeps the engine contract
(`rejoin_server.testing.engine_contract`), so what the generic page shows of it is a real game's:
replay, snapshots, private numbers, clocks and refusals."""

from __future__ import annotations

import random
from typing import Any

from e2e.support.guess_game import GuessEngine, GuessState
from rejoin_server.games import Act, Command, Join, Start
from rejoin_server.testing.engine_contract import check_engine

PLAYERS = ["ann", "bob", "cyd"]


def pick(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value of a field of a legal action, as the generic page's forms allow."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if schema["type"] == "boolean":
        return rng.choice([True, False])
    return rng.randint(schema["minimum"], schema["maximum"])


def play(state: GuessState, rng: random.Random) -> Command | None:
    seated = [p for p in PLAYERS if state.seat_of(p) is not None]
    if state.status == "waiting":
        if len(seated) < len(PLAYERS) and rng.random() < 0.8:
            return Join(PLAYERS[len(seated)], f"Player {len(seated) + 1}")
        return Start(rng.choice(PLAYERS))
    for player in seated:
        legal = state.view(player)["you"]["legalActions"]
        if legal:
            action = rng.choice(legal)
            fields = {k: pick(s, rng) for k, s in action.get("fields", {}).items()}
            # Now and then by anyone at all: out of turn, it must be refused.
            actor = player if rng.random() < 0.9 else rng.choice(PLAYERS)
            return Act(actor, action["type"], fields)
    return None  # nobody may act: wait for the clock


def secrets(state: GuessState, player_id: str) -> list[Any]:
    """A player's number until the end: as their seat shows it, and as its event carries it."""
    seat = state.seat_of(player_id)
    if seat is None or state.status == "completed":
        return []
    number = next(p["secret"] for p in state.players if p["seat"] == seat)
    if number is None:
        return []
    return [{"seat": seat, "secret": number}, {"seat": seat, "value": number}]


def test_the_guess_game_keeps_the_engine_contract() -> None:
    settings = GuessEngine().settings({"seats": 3, "rounds": 3})
    check_engine(GuessEngine(), settings, PLAYERS, play, secrets, games=20)
