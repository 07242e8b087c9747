"""`check_rollback`: the engine contract of an operator's rollback (docs/games.md, "Rolling back").

`POST /api/game/{id}/rollback` appends a `snapshot_restored` event at seq S with `data.version` V:
the state after it is the state at V (loaded from its snapshot), its seq S, its clocks restarted
from the event's `at`. An engine that supports it keeps three rules, checked here over seeded games
played by the caller's `play` (as the other checks, `engine_contract`), rolled back at random steps
to a random earlier seq, the games going on after each rollback:

- `apply(event)` given `engine.load(dump at V)` and the event at S takes it: seq S, status and
  everything else as at V (a fresh `load` of the same dump with its seq set aside: the same views);
- clocks restart from `at`: `next_deadline()` is None (when it was None at V) or not before `at`;
- replaying the whole log from seq 1 (`store.replay.fold`: a rollback replaces the state with the
  one rebuilt at its version) equals the live state: `dump()`, `view(p)` for every player and the
  spectator, `seq`, `status`, `next_deadline()`.

An engine that cannot roll back raises ValueError from `apply` (the server answers
`invalid_request`); it does not call this check.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from rejoin_server.games.base import Abandon, Event, GameRuleError, GameState, Tick
from rejoin_server.store.codec import canonical_json, decode_object
from rejoin_server.store.replay import SNAPSHOT_RESTORED, fold, rebuilder
from rejoin_server.testing.engine_run import (
    START_MS,
    THINK_MS,
    EngineOf,
    Play,
    StateT,
    observe,
    stored,
)

__all__ = ["check_rollback"]

ROLLBACK_CHANCE = 0.08
REASON = "contract-check"


def check_rollback(
    engine: EngineOf[StateT],
    settings: Mapping[str, Any],
    players: Sequence[str],
    play: Play[StateT],
    *,
    games: int = 10,
    seed: int = 0,
    max_commands: int = 200,
) -> None:
    """Rollbacks to random earlier seqs, checked as the module says; AssertionError at the first
    broken rule, naming the game's seed and seqs. Fails when the games rolled nothing back."""
    if games < 1 or max_commands < 1:
        raise ValueError(f"games and max_commands must be at least 1: {games}, {max_commands}")
    total = 0
    for game_seed in range(seed, seed + games):
        total += _Run(engine, settings, list(players), play, game_seed).run(max_commands)
    if total == 0:
        raise AssertionError(f"[rollback] the {games} game(s) rolled nothing back")


class _Run:
    def __init__(
        self,
        engine: EngineOf[Any],
        settings: Mapping[str, Any],
        players: list[str],
        play: Play[Any],
        seed: int,
    ) -> None:
        self.engine, self.settings, self.play, self.seed = engine, settings, play, seed
        self.viewers: list[str | None] = [*players, None]
        self.rng = random.Random(seed)
        self.game_id = f"rollback-{seed}"
        self.state: GameState = engine.new_game(self.game_id, settings)
        self.now = START_MS
        self.log: list[Event] = []
        self.dumps: dict[int, bytes] = {0: canonical_json(self.state.dump())}

    def fail(self, text: str) -> AssertionError:
        return AssertionError(f"[rollback] game seed={self.seed}, seq {self.state.seq}: {text}")

    def run(self, max_commands: int) -> int:
        rollbacks = 0
        for _ in range(max_commands):
            if self.state.seq > 0 and self.rng.random() < ROLLBACK_CHANCE:
                self.roll_back()
                rollbacks += 1
            elif not self.step():
                break
        if self.state.seq > 0:  # every game ends on one: a completed game is reopened by it
            self.roll_back()
            rollbacks += 1
        return rollbacks

    def step(self) -> bool:
        state, deadline = self.state, self.state.next_deadline()
        if state.status == "completed":
            return False
        command = (
            None if deadline is not None and deadline <= self.now else self.play(state, self.rng)
        )
        if command is None:
            if deadline is None:
                return False
            self.now = max(self.now, deadline)
            command = Tick()
        else:
            think = self.now + self.rng.randint(0, THINK_MS)
            self.now = think if deadline is None else max(self.now, min(think, deadline - 1))
        if self.rng.random() < 0.01:
            command = Abandon(REASON)
        try:
            events = state.handle(command, self.now)
        except GameRuleError:
            return True
        self.log.extend(stored(event) for event in events)
        self.dumps[state.seq] = canonical_json(state.dump())
        return True

    def roll_back(self) -> None:
        version = self.rng.choice(sorted(self.dumps))
        at_version = decode_object(self.dumps[version])
        self.now += self.rng.randint(1, THINK_MS)
        seq = self.state.seq + 1
        data = {"version": version, "reason": REASON, "handNumber": None}
        event = stored(Event(seq, SNAPSHOT_RESTORED, self.now, data))
        restored = self.engine.load(self.game_id, self.settings, at_version)
        before = observe(restored, self.viewers)
        try:
            restored.apply(event)
        except ValueError as exc:
            raise self.fail(
                f"apply refused the rollback to version {version} at seq {seq}: {exc!r}. "
                "apply of snapshot_restored is given the state at `version`; it sets its seq to "
                "the event's and restarts its clocks from the event's `at`"
            ) from exc
        after = observe(restored, self.viewers)
        if restored.seq != seq or restored.status != before.status:
            raise self.fail(
                f"after the rollback to {version} at seq {seq}: seq {restored.seq}, status "
                f"{restored.status!r} (the state at {version} was {before.status!r})"
            )
        if after.deadline is not None and (before.deadline is None or after.deadline < self.now):
            raise self.fail(
                f"after the rollback to {version} at {self.now}, next_deadline() is "
                f"{after.deadline} (it was {before.deadline} at {version}): clocks restart from "
                "the event's `at`"
            )
        self.state = restored
        self.log.append(event)
        self.dumps[seq] = canonical_json(restored.dump())
        self.check_replay()

    def check_replay(self) -> None:
        def new_game() -> GameState:
            made: GameState = self.engine.new_game(self.game_id, self.settings)
            return made

        def load(data: Mapping[str, Any]) -> GameState:
            loaded: GameState = self.engine.load(self.game_id, self.settings, data)
            return loaded

        state_at = rebuilder(new_game, self.log, self.game_id, load=load)
        try:
            replayed, _ = fold(new_game(), self.log, self.game_id, state_at)
        except Exception as exc:
            raise self.fail(f"replaying the log from seq 1 failed: {exc}") from exc
        live, again = observe(self.state, self.viewers), observe(replayed, self.viewers)
        found = live.difference(again, "live", "replayed from seq 1")
        if found is not None:
            raise self.fail(f"after a rollback, {found}")
