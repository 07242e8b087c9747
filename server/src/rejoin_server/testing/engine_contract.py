"""The contract checks of a game engine: plain functions a game's author calls from a test (pytest
or any other runner) to see that the engine keeps the rules that let rejoin store, restore and
redact its games (docs/games.md, "Checking your engine").

Each check plays `games` games, seeded `seed`, `seed + 1`, …, and raises AssertionError at the
first broken rule, saying which rule, where (the game's seed, the command, the seq) and what to fix:

- `check_replay`: a new game folded with `apply` over the events `handle` returned (as JSON gives
  them back) equals the live state after every command: the same `dump()`, `view(p)` for every
  player, a stranger and the spectator (None), `seq`, `status`, `next_deadline()`, `seat_of(p)`;
- `check_round_trip`: `dump()` is JSON data (dicts with string keys, lists, strings, ints,
  booleans, None: no floats, no tuples); `engine.load(game_id, settings, dump())` equals the state
  after every command, and folding the next events goes on to the live state; a dump taken
  before a command is not changed by it;
- `check_redaction`: `event_for(event, p)` keeps the event's seq, kind and at for every viewer, and
  no view or event shows a viewer a value `secrets(state, other)` lists (`engine_redaction`);
- `check_sealing`: with the values the engine declares private (`private_data`) taken out as the
  store takes them out to encrypt them at rest, no value `secrets` lists is left in the plain
  part of an event or a dump (`engine_sealing`); not part of `check_engine`;
- `check_clocks`: when `next_deadline()` <= now, `handle(Tick())` returns events or moves the
  deadline past now; a Tick before the deadline, or with none, returns [] and changes nothing; a
  completed game has no deadline;
- `check_refusals`: a `GameRuleError` leaves the state as it was, with a code of
  `rejoin_protocol.errors.ErrorCode` and a message; an action type the game cannot know is
  refused; a completed game refuses every command but Tick with `game_completed`.

`check_engine` runs all five over the same games. A check also fails when its games gave it
nothing to check: no `Act` accepted; for `check_clocks`, no due `Tick` fired; for
`check_redaction`, `secrets` listed nothing, or a value its owner never got (`Check.vacuous`).
What every check asserts besides is in `engine_run`: `handle` raises nothing but `GameRuleError`,
numbers its events from `seq + 1`, gives them JSON data and kinds other than the event stream's
notices (`presence`, `token`, `close`, `message`); `Abandon` completes the game.

The game is played by `play(state, rng)`, which returns the next command (from the players'
views, mostly legal moves and sometimes illegal ones, so that refusals are seen) or None when no
one has anything to do but wait for the clock. The run drives a fake clock from `START_MS`, lets
clocks run out at random and abandons some games; `rng` is the run's seeded `random.Random`, so a
game replays from its seed if the engine draws its own randomness from a seeded source too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rejoin_server.testing.engine_checks import (
    Check,
    ClockCheck,
    RefusalCheck,
    ReplayCheck,
    RoundTripCheck,
)
from rejoin_server.testing.engine_redaction import RedactionCheck
from rejoin_server.testing.engine_run import (
    START_MS,
    STRANGER,
    EngineOf,
    GameRun,
    Play,
    Secrets,
    StateT,
    Tally,
)
from rejoin_server.testing.engine_sealing import SealingCheck

__all__ = [
    "START_MS",
    "EngineOf",
    "Play",
    "Secrets",
    "check_clocks",
    "check_engine",
    "check_redaction",
    "check_refusals",
    "check_replay",
    "check_round_trip",
    "check_sealing",
]

GAMES = 10
MAX_COMMANDS = 200


def check_engine(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    secrets: Secrets[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """All five checks over the same `games` games of at most `max_commands` commands each."""

    def checks() -> list[Check]:
        return [
            ReplayCheck(),
            RoundTripCheck(),
            RedactionCheck(secrets),
            ClockCheck(),
            RefusalCheck(),
        ]

    _run(checks, engine, settings, players, play, games=games, seed=seed, max_commands=max_commands)


def check_replay(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """Replaying the log equals the live state after every command."""
    _run(
        lambda: [ReplayCheck()],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )


def check_round_trip(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """`load(dump())` equals the state after every command, and goes on like it."""
    _run(
        lambda: [RoundTripCheck()],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )


def check_redaction(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    secrets: Secrets[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """`event_for` keeps every seq; no view or event shows another player's `secrets`."""
    _run(
        lambda: [RedactionCheck(secrets)],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )


def check_clocks(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """`next_deadline()` and `Tick` agree."""
    _run(
        lambda: [ClockCheck()],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )


def check_refusals(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """A refused command leaves the state untouched and carries a known error code."""
    _run(
        lambda: [RefusalCheck()],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )


def _run(
    checks: Callable[[], list[Check]],
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int,
    seed: int,
    max_commands: int,
) -> None:
    # Mistakes in calling a check are the caller's: ValueError, not a failed check.
    if isinstance(players, str) or not players or len(set(players)) != len(players):
        raise ValueError(f"players must be distinct player ids, at least one: {players!r}")
    if STRANGER in players:
        raise ValueError(f"{STRANGER!r} is the checks' own viewer who never joins; rename it")
    if games < 1 or max_commands < 1:
        raise ValueError(f"games and max_commands must be at least 1: {games}, {max_commands}")
    tally = Tally()
    made: list[Check] = []
    for game_seed in range(seed, seed + games):
        made = checks()
        GameRun(
            engine, settings, list(players), play, game_seed, made, max_commands, tally=tally
        ).run()
    # A check that saw nothing of what its rule is about has tested nothing: it fails too.
    for check in made:
        missing = check.vacuous(tally)
        if missing is not None:
            raise AssertionError(
                f"[{check.name}] over the {games} game(s) seeded {seed}..{seed + games - 1} "
                f"(max_commands={max_commands}): {missing}"
            )


def check_sealing(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    secrets: Secrets[StateT],
    *,
    games: int = GAMES,
    seed: int = 0,
    max_commands: int = MAX_COMMANDS,
) -> None:
    """No value `secrets` lists stays plain in an event or dump once `private_data` is sealed."""
    _run(
        lambda: [SealingCheck(secrets)],
        engine,
        settings,
        players,
        play,
        games=games,
        seed=seed,
        max_commands=max_commands,
    )
