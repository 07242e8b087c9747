"""The engine contract checks (`rejoin_server.testing.engine_contract`) on a tiny correct game and
on broken copies of it: the correct one passes every check, and each broken one is caught by the
check of the rule it breaks, with a message naming the rule, while the checks of the rules it keeps
pass it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from rejoin_server.games.base import Command, Join, Start
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

Check = Callable[[ToyEngine], None]
GAMES = 12


def replay(engine: ToyEngine) -> None:
    check_replay(engine, SETTINGS, PLAYERS, play, games=GAMES)


def round_trip(engine: ToyEngine) -> None:
    check_round_trip(engine, SETTINGS, PLAYERS, play, games=GAMES)


def redaction(engine: ToyEngine) -> None:
    check_redaction(engine, SETTINGS, PLAYERS, play, secrets, games=GAMES)


def clocks(engine: ToyEngine) -> None:
    check_clocks(engine, SETTINGS, PLAYERS, play, games=GAMES)


def refusals(engine: ToyEngine) -> None:
    check_refusals(engine, SETTINGS, PLAYERS, play, games=GAMES)


def everything(engine: ToyEngine) -> None:
    check_engine(engine, SETTINGS, PLAYERS, play, secrets, games=GAMES)


CHECKS: dict[str, Check] = {
    "replay": replay,
    "round trip": round_trip,
    "redaction": redaction,
    "clocks": clocks,
    "refusals": refusals,
}


def test_the_correct_game_passes_every_check() -> None:
    everything(ToyEngine())
    for check in CHECKS.values():
        check(ToyEngine())


# A broken engine, the check that must catch it, what its message says, and the checks of the
# rules it keeps (left out: those a broken rule breaks too, e.g. a refusal that changed the state
# also makes the replay differ).
BROKEN: list[tuple[ToyEngine, str, str, list[str]]] = [
    (
        doubles.engine_of(doubles.ForgetfulApplyState),
        "replay",
        r"\[replay\] .*dump\(\)\['bids'\].* live .* replayed.*handle must change the state only "
        r"by applying the events it returns",
        ["redaction", "clocks", "refusals"],
    ),
    (
        doubles.LoadDropsScoresEngine(),
        "round trip",
        r"\[round trip\] .*engine\.load\(game_id, settings, dump\(\)\) differs .*\['scores'\]",
        ["replay", "redaction", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.SharedDumpState),
        "round trip",
        r"the dump taken at seq \d+ changed .*\['scores'\].*Return copies",
        ["replay", "redaction", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.FloatDumpState),
        "round trip",
        r"dump\(\)\['pace'\] is the float 5\.0",
        ["replay", "redaction", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.HiddenPotState),
        "round trip",
        r"the state loaded from the dump at seq \d+, folding the \d+ events that followed, "
        r"differs .*\['scores'\].*dump all the game needs",
        ["replay", "redaction", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.LeakyEventsState),
        "redaction",
        r"\[redaction\] .*event_for\(event \d+ \(dealt\), '\w+'\).*shows \{'playerId': '\w+', "
        r"'number': \d+\} to '\w+', and it is private to '\w+'",
        ["replay", "round trip", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.RenumberedEventsState),
        "redaction",
        r"event_for\(event (\d+) \(dealt\), .*\) on .* returned seq \d+, kind 'dealt'.* for an "
        r"event of seq \1.*keeps seq, kind and at",
        ["replay", "round trip", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.LeakyViewState),
        "redaction",
        r"view\((?:'\w+'|'contract-check-stranger'|None)\)\['players'\]\[\d\] shows .* private to",
        ["replay", "round trip", "clocks", "refusals"],
    ),
    (
        doubles.engine_of(doubles.ClockNeverFiresState),
        "clocks",
        r"\[clocks\] .*Tick\(attended=True\).*next_deadline\(\) was (\d+) and a Tick at \d+ "
        r"returned no event and left the deadline at \1",
        ["replay", "round trip", "redaction", "refusals"],
    ),
    (
        doubles.engine_of(doubles.EarlyClockState),
        "clocks",
        r"a Tick before the deadline \d+ returned 1 event\(s\) \(timeout\)",
        ["replay", "round trip", "redaction", "refusals"],
    ),
    (
        doubles.engine_of(doubles.MutatesBeforeRefusingState),
        "refusals",
        r"\[refusals\] .*Act\('\w+', '[\w-]+', .*handle refused it \(\w+: .*\) but changed "
        r"the state: dump\(\)\['scores'\]\['\w+'\] is -?\d+ before and -?\d+ after",
        ["round trip", "redaction", "clocks"],
    ),
    (
        doubles.engine_of(doubles.UnknownCodeState),
        "refusals",
        r"refused it with the code 'bad_move', which is not one of rejoin_protocol",
        ["replay", "round trip", "redaction", "clocks"],
    ),
    (
        doubles.engine_of(doubles.AnyActionState),
        "refusals",
        r"contract-check-unknown-action.*handle accepted an action of a type no game has",
        ["replay", "round trip", "redaction", "clocks"],
    ),
    (
        doubles.engine_of(doubles.AbandonsTwiceState),
        "refusals",
        r"Join\(player_id='contract-check-stranger'.*the game is completed and handle returned "
        r"1 event\(s\).*game_completed",
        ["replay", "round trip", "redaction", "clocks"],
    ),
]


@pytest.mark.parametrize(
    ("engine", "caught_by", "message", "passed_by"),
    BROKEN,
    ids=[
        type(e).__name__ if e.state_type is ToyState else e.state_type.__name__ for e, *_ in BROKEN
    ],
)
def test_a_broken_rule_is_caught_by_its_check_and_only_by_it(
    engine: ToyEngine, caught_by: str, message: str, passed_by: list[str]
) -> None:
    with pytest.raises(AssertionError, match=message):
        CHECKS[caught_by](engine)
    with pytest.raises(AssertionError, match=rf"\[{caught_by}\]"):
        everything(engine)
    for name in passed_by:
        CHECKS[name](engine)


@pytest.mark.parametrize(
    ("state_type", "message"),
    [
        (doubles.TupleEventState, r"\['seats'\] is the tuple \('ann',\): .*make it a list"),
        (doubles.SkippedSeqState, r"events numbered \[2\] after seq 0: they must be 1, 2, …"),
        (doubles.NoticeKindState, r"of kind 'presence', a name the event stream gives its own"),
    ],
)
def test_what_every_check_relies_on_fails_every_check(
    state_type: type[ToyState], message: str
) -> None:
    engine = doubles.engine_of(state_type)
    for check in [*CHECKS.values(), everything]:
        with pytest.raises(AssertionError, match=r"\[basics\] .*" + message):
            check(engine)


def test_secrets_must_name_values_worth_looking_for() -> None:
    def vague(state: ToyState, player_id: str) -> list[Any]:
        return [True] if player_id in state.numbers else []

    with pytest.raises(AssertionError, match=r"secrets\(state, '\w+'\) lists True"):
        check_redaction(ToyEngine(), SETTINGS, PLAYERS, play, vague, games=1)


def test_a_play_that_returns_no_command_is_told() -> None:
    def bad_play(state: ToyState, rng: random.Random) -> Command | None:
        return "ann" if state.seats else Join("ann", "Ann")  # type: ignore[return-value]

    with pytest.raises(AssertionError, match=r"play returned 'ann', not a command"):
        check_replay(ToyEngine(), SETTINGS, PLAYERS, bad_play, games=1)


def test_an_engine_that_raises_is_told_to_refuse_instead() -> None:
    def crashing_play(state: ToyState, rng: random.Random) -> Command | None:
        return Start("ann") if state.seats else Join("ann", "Ann")

    class Crashing(ToyState):
        def _check_start(self, command: Start) -> None:
            raise KeyError("oops")

    with pytest.raises(AssertionError, match=r"Start\(player_id='ann'\).*raised KeyError"):
        check_refusals(doubles.engine_of(Crashing), SETTINGS, PLAYERS, crashing_play, games=1)


@pytest.mark.parametrize("players", [[], ["ann", "ann"], "ann", ["ann", "contract-check-stranger"]])
def test_players_must_be_distinct_ids(players: Any) -> None:
    with pytest.raises(ValueError, match=r"players|stranger"):
        check_replay(ToyEngine(), SETTINGS, players, play)


def test_the_checks_import_without_pytest() -> None:
    """A game's author may run the checks from any test runner: pytest is not imported."""
    script = (
        "import sys; import rejoin_server.testing.engine_contract; "
        "sys.exit('pytest' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, env=os.environ.copy())
    assert done.returncode == 0
