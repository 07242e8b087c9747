"""The engine contract checks fail a call that tests nothing: a `play` that never gets a move
accepted, games whose clocks never fire, a `secrets` that lists nothing or values the game never
shows its owner. Each failure names the check and says what to change in `play` or `secrets`."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from rejoin_server.games.base import Command, Event, Join, Tick
from rejoin_server.games.poker import PokerEngine
from rejoin_server.testing.engine_contract import (
    check_clocks,
    check_engine,
    check_redaction,
    check_refusals,
    check_replay,
    check_round_trip,
)

from . import contract_doubles as doubles
from .contract_toy import PLAYERS, SETTINGS, ToyEngine, ToyState, play, secrets

GAMES = 6
NO_ACT = r"no Act was accepted .*`play` must return the Joins and the Start"


def idle(state: Any, rng: random.Random) -> Command | None:
    return None


def joins_only(state: ToyState, rng: random.Random) -> Command | None:
    newcomers = [p for p in PLAYERS if p not in state.seats]
    return Join(newcomers[0], newcomers[0].title()) if newcomers else None


def nothing(state: Any, player_id: str) -> list[Any]:
    return []


def test_the_call_that_tested_nothing_fails() -> None:
    with pytest.raises(AssertionError, match=r"^\[replay\] .*" + NO_ACT):
        check_engine(PokerEngine(), {}, ["a", "b"], idle, nothing, games=2)


PlayCheck = Callable[[Callable[[ToyState, random.Random], Command | None]], None]
CHECKS: dict[str, PlayCheck] = {
    "replay": lambda p: check_replay(ToyEngine(), SETTINGS, PLAYERS, p),
    "round trip": lambda p: check_round_trip(ToyEngine(), SETTINGS, PLAYERS, p),
    "redaction": lambda p: check_redaction(ToyEngine(), SETTINGS, PLAYERS, p, secrets),
    "clocks": lambda p: check_clocks(ToyEngine(), SETTINGS, PLAYERS, p),
    "refusals": lambda p: check_refusals(ToyEngine(), SETTINGS, PLAYERS, p),
}


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("bad_play", [idle, joins_only])
def test_every_check_fails_a_play_that_never_gets_a_move_accepted(
    name: str, bad_play: Callable[[ToyState, random.Random], Command | None]
) -> None:
    with pytest.raises(AssertionError, match=rf"^\[{name}\] over the 10 game\(s\) .*{NO_ACT}"):
        CHECKS[name](bad_play)


class ClocklessState(ToyState):
    """High Number with no clock: a player may wait for ever."""

    def next_deadline(self) -> int | None:
        return None

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return [] if isinstance(command, Tick) else super().handle(command, now_ms)


def test_the_clock_check_fails_games_whose_clocks_never_fire() -> None:
    engine = doubles.engine_of(ClocklessState)
    fired = r"^\[clocks\] .*no due Tick fired .*`play` must bring the game to where a clock runs"
    with pytest.raises(AssertionError, match=fired):
        check_clocks(engine, SETTINGS, PLAYERS, play, games=GAMES)
    with pytest.raises(AssertionError, match=fired):
        check_engine(engine, SETTINGS, PLAYERS, play, secrets, games=GAMES)
    for check in (check_replay, check_round_trip, check_refusals):
        check(engine, SETTINGS, PLAYERS, play, games=GAMES)
    check_redaction(engine, SETTINGS, PLAYERS, play, secrets, games=GAMES)


def test_the_redaction_check_fails_when_secrets_lists_nothing() -> None:
    listed_nothing = r"^\[redaction\] .*`secrets` listed nothing for any player in any state"
    with pytest.raises(AssertionError, match=listed_nothing):
        check_redaction(ToyEngine(), SETTINGS, PLAYERS, play, nothing)
    with pytest.raises(AssertionError, match=listed_nothing):
        check_engine(ToyEngine(), SETTINGS, PLAYERS, play, nothing)


def wrong_shape(state: ToyState, player_id: str) -> list[Any]:
    """The number under a key the game does not use: no view or event could ever leak it."""
    number = state.numbers.get(player_id)
    return [] if number is None else [{"playerId": player_id, "secret": number}]


def not_in_the_game(state: ToyState, player_id: str) -> list[Any]:
    """A value the game never had; listed only in some states, next to a real one."""
    real = secrets(state, player_id)
    return [*real, f"{player_id}-never-dealt"] if real and state.round == 2 else real


@pytest.mark.parametrize(
    ("bad_secrets", "value"),
    [
        (wrong_shape, r"\{'playerId': '(\w+)', 'secret': \d+\}"),
        (not_in_the_game, r"'(\w+)-never-dealt'"),
    ],
)
def test_the_redaction_check_fails_secrets_the_owner_never_gets(
    bad_secrets: Callable[[ToyState, str], list[Any]], value: str
) -> None:
    never = (
        rf"^\[redaction\] .*secrets\(state, '(\w+)'\) listed {value} \(game seed=\d+, "
        r"command #\d+ .*\), "
        r"and '\1' never got it, neither in view\('\1'\) nor in an event .*the same JSON shape"
    )
    with pytest.raises(AssertionError, match=never):
        check_redaction(ToyEngine(), SETTINGS, PLAYERS, play, bad_secrets)


def test_games_cut_short_pass_when_they_checked_something() -> None:
    """No game need finish: a few moves, a clock that fired and a secret seen are enough."""
    engine = ToyEngine()
    check_engine(engine, SETTINGS, PLAYERS, play, secrets, games=GAMES, max_commands=12)
