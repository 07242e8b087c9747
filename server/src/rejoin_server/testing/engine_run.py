"""One game played for the engine contract checks: a seeded random source, a fake clock, the
caller's `play` choosing commands, and the checks (`engine_checks.Check`) watching each step.

The run plays like the host: whatever is due is ticked first; a player's command comes before
their clock runs out (the clock moves a random think time, never past the deadline); sometimes the
clock is let run out instead; when `play` has nothing to send, the clock runs to the next deadline,
and without one the game is over as far as the run can tell. Some games are abandoned at a random
step. Every step is reported to the checks with what the state looked like before and after it.

What the run asserts itself, for every check, because nothing else makes sense without it: `handle`
raises nothing but `GameRuleError`, returns events numbered from `seq + 1` on and moves `seq` to
the last, with data that is JSON and a kind that is not one of the event stream's notices
(`STREAM_NOTICE_KINDS`); `Abandon` completes the game; a new game is at seq 0.

A `Tally` shared by the games of one call counts what they did, so that a check that saw nothing
of what its rule is about (no move accepted, no clock fired) fails instead of passing vacuously.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from rejoin_server.games.base import (
    STREAM_NOTICE_KINDS,
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    GameState,
    GameStatus,
    Join,
    Start,
    Tick,
)
from rejoin_server.store.codec import canonical_json, decode_object
from rejoin_server.testing.engine_json import Copy, json_problem

StateT = TypeVar("StateT", bound=GameState)
StateT_co = TypeVar("StateT_co", bound=GameState, covariant=True)

START_MS = 1_700_000_000_000
# A viewer who never joins: a player id the game has never seen must see no more than a spectator.
STRANGER = "contract-check-stranger"
ABANDON_REASON = "contract-check"
# Chances per step: let the player's clock run out; the game is abandoned (decided per game).
TIMEOUT_CHANCE = 0.1
ABANDON_CHANCE = 0.25
THINK_MS = 3_000


class EngineOf(Protocol[StateT_co]):
    """A `GameEngine` whose states are `StateT_co`, so that `play` and `secrets` may take them."""

    @property
    def kind(self) -> str: ...

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> StateT_co: ...

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> StateT_co: ...


Play = Callable[[StateT, random.Random], Command | None]
Secrets = Callable[[StateT, str], Iterable[Any]]


@dataclass
class Tally:
    """What the games of one call did, over all of them."""

    games: int = 0
    acts: int = 0  # Acts that handle answered with events
    fired: int = 0  # Ticks at or after next_deadline() that handle answered with events
    secrets: int = 0  # values `secrets` listed, over all the states it was asked about
    # (seed, owner, value as JSON) -> the value and where it was first listed, until its owner
    # is seen to get it in a view or event (engine_redaction)
    unseen: dict[tuple[int, str, str], tuple[Any, str]] = field(default_factory=dict)
    # Listed values found in an event or dump before sealing (engine_sealing): its matcher
    # looked at real data.
    unsealed_sightings: int = 0


@dataclass(frozen=True, slots=True)
class Observed:
    """What anyone can learn of a state from outside: the seam's answers, taken as copies."""

    seq: int
    status: GameStatus
    deadline: int | None
    seats: dict[str, int | None]
    dump: Copy
    views: dict[str | None, Copy]

    def difference(self, other: Observed, a_name: str, b_name: str) -> str | None:
        """The first place `other` differs from this, named for a message, or None."""
        for what, a, b in (
            ("seq", self.seq, other.seq),
            ("status", self.status, other.status),
            ("next_deadline()", self.deadline, other.deadline),
            *((f"seat_of({p!r})", self.seats[p], other.seats[p]) for p in self.seats),
        ):
            if a != b:
                return f"{what} is {a!r} {a_name} and {b!r} {b_name}"
        found = self.dump.difference(other.dump, "dump()", a_name, b_name)
        for viewer in self.views:
            if found is not None:
                break
            found = self.views[viewer].difference(
                other.views[viewer], f"view({viewer!r})", a_name, b_name
            )
        return found


def observe(state: GameState, viewers: Sequence[str | None]) -> Observed:
    players = [v for v in viewers if v is not None]
    return Observed(
        seq=state.seq,
        status=state.status,
        deadline=state.next_deadline(),
        seats={p: state.seat_of(p) for p in players},
        dump=Copy.of(state.dump()),
        views={v: Copy.of(state.view(v)) for v in viewers},
    )


def stored(event: Event) -> Event:
    """`event` as the store gives it back: its data encoded to JSON and decoded again."""
    return Event(event.seq, event.kind, event.at, decode_object(canonical_json(event.data)))


def describe(command: Command) -> str:
    if isinstance(command, Act):
        return f"Act({command.player_id!r}, {command.type!r}, {dict(command.data)!r})"
    return repr(command)


@dataclass(frozen=True, slots=True)
class Step:
    """One command the state handled: before and after it, its events live and as stored."""

    command: Command
    before: Observed
    events: list[Event]
    stored: list[Event]
    after: Observed


class Watcher(Protocol):
    """What the run calls; `engine_checks.Check` implements it."""

    uses_replay: bool

    def started(self, run: GameRun[Any]) -> None: ...

    def probe(self, run: GameRun[Any]) -> None: ...

    def replayed(self, run: GameRun[Any], event: Event, replay: GameState) -> None: ...

    def handled(self, run: GameRun[Any], step: Step) -> None: ...

    def refused(
        self, run: GameRun[Any], command: Command, before: Observed, error: GameRuleError
    ) -> None: ...

    def finished(self, run: GameRun[Any]) -> None: ...

    def vacuous(self, tally: Tally) -> str | None: ...


@dataclass
class GameRun(Generic[StateT]):
    engine: EngineOf[StateT]
    settings: Mapping[str, Any]
    players: Sequence[str]
    play: Play[StateT]
    seed: int
    watchers: Sequence[Watcher]
    max_commands: int
    now: int = START_MS
    game_id: str = ""
    commands: int = 0
    log: list[Event] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.game_id = self.game_id or f"contract-{self.seed}"
        self.viewers: list[str | None] = [*self.players, STRANGER, None]
        self.current: Command | None = None  # the command being handled, for messages
        self.state: StateT = self.engine.new_game(self.game_id, self.settings)
        if self.state.seq != 0:
            self.fail(
                f"engine.new_game made a state at seq {self.state.seq}: a new game has no "
                "events yet, so its seq is 0"
            )
        self.observed = observe(self.state, self.viewers)
        self.abandon_at: int | None = None
        self.replay: GameState | None = None
        if any(w.uses_replay for w in self.watchers):
            self.replay = self.engine.new_game(self.game_id, self.settings)

    def where(self, command: Command | None = None) -> str:
        """Where a run is, for a message: enough to find the step again (seed=…, games=1)."""
        command = command or self.current
        doing = f" {describe(command)}" if command is not None else ""
        return (
            f"game seed={self.seed}, command #{self.commands}{doing}, the state now at seq "
            f"{self.state.seq}, now_ms={self.now}"
        )

    def failure(self, text: str) -> AssertionError:
        """A broken rule that every check relies on (`[basics]`)."""
        return AssertionError(f"[basics] {self.where()}: {text}")

    def fail(self, text: str) -> NoReturn:
        raise self.failure(text)

    def execute(self, command: Command) -> list[Event] | GameRuleError:
        """`command` handled by the state, and every watcher told: the events, or the refusal."""
        self.commands += 1
        self.current = command
        before, seq = self.observed, self.state.seq
        try:
            returned: object = self.state.handle(command, self.now)
        except GameRuleError as error:
            self.observed = observe(self.state, self.viewers)
            for watcher in self.watchers:
                watcher.refused(self, command, before, error)
            return error
        except Exception as exc:
            raise self.failure(
                f"handle raised {exc!r}. Refuse what the rules do not allow with "
                "GameRuleError(code, message); any other exception is a bug the server "
                "answers with `internal`, reloading the game from the store."
            ) from exc
        if not isinstance(returned, list) or not all(isinstance(e, Event) for e in returned):
            self.fail(f"handle returned {returned!r}: it returns a list of Events")
        events: list[Event] = returned
        self._check_events(command, seq, events)
        self.log.extend(events)
        if events and isinstance(command, Act):
            self.tally.acts += 1
        due = before.deadline
        if events and isinstance(command, Tick) and due is not None and due <= self.now:
            self.tally.fired += 1
        as_stored = [stored(e) for e in events]
        if self.replay is not None:
            self._replay(command, as_stored)
        self.observed = observe(self.state, self.viewers)
        step = Step(command, before, events, as_stored, self.observed)
        for watcher in self.watchers:
            watcher.handled(self, step)
        return events

    def _check_events(self, command: Command, seq: int, events: list[Event]) -> None:
        numbers = [e.seq for e in events]
        if numbers != list(range(seq + 1, seq + 1 + len(events))):
            self.fail(
                f"handle returned events numbered {numbers} after seq {seq}: they must be "
                f"{seq + 1}, {seq + 2}, … with no gap"
            )
        if self.state.seq != seq + len(events):
            self.fail(
                f"after handle returned {len(events)} event(s) from seq {seq}, state.seq is "
                f"{self.state.seq}: handle applies every event it returns, and only those"
            )
        for event in events:
            if event.kind in STREAM_NOTICE_KINDS:
                self.fail(
                    f"event {event.seq} is of kind {event.kind!r}, a name the event stream gives "
                    f"its own notices ({', '.join(sorted(STREAM_NOTICE_KINDS))}): a browser's "
                    "EventSource could not tell the two apart. Name the event otherwise."
                )
            problem = json_problem(event.data, f"event {event.seq} ({event.kind}).data")
            if problem is not None:
                self.fail(
                    f"{problem}. Event data goes to the store as JSON, and a restart applies it "
                    "as JSON gives it back."
                )
        if isinstance(command, Abandon) and self.state.status != "completed":
            self.fail(f"the game is {self.state.status!r} after Abandon, which completes it")

    def _replay(self, command: Command, events: list[Event]) -> None:
        replay = self.replay
        assert replay is not None
        for event in events:
            try:
                replay.apply(event)
            except Exception as exc:
                raise self.failure(
                    f"apply raised {exc!r} on event {event.seq} ({event.kind}, data "
                    f"{dict(event.data)!r} as the store gives it back), folding the log into a "
                    "new game. apply must take every event handle returned, after a JSON round "
                    "trip (lists, not tuples; string keys)."
                ) from exc
            if replay.seq != event.seq:
                self.fail(
                    f"after apply(event {event.seq}) a replayed game is at seq {replay.seq}: "
                    "apply moves seq to the event's"
                )
            for watcher in self.watchers:
                watcher.replayed(self, event, replay)

    def tick(self) -> list[Event] | GameRuleError:
        return self.execute(Tick())

    def late(self, deadline: int) -> int:
        """When a host ticks a clock due at `deadline`: on time mostly, sometimes late."""
        return max(self.now, deadline + self.rng.choice([0, 0, 0, 1, self.rng.randint(1, 5_000)]))

    def run(self) -> None:
        self.tally.games += 1
        for watcher in self.watchers:
            watcher.started(self)
        # Anywhere from the first command to the last, more often early: most games are short.
        self.abandon_at = (
            self.rng.randrange(self.max_commands) >> self.rng.randint(0, 4)
            if self.rng.random() < ABANDON_CHANCE
            else None
        )
        while not self.over() and self.commands < self.max_commands:
            for watcher in self.watchers:
                watcher.probe(self)
            if self.over() or not self._step():
                break
        if self.over():
            for watcher in self.watchers:
                watcher.finished(self)

    def over(self) -> bool:
        return self.state.status == "completed"

    def _step(self) -> bool:
        """One step of the game as a host would take it; False when nothing will move it on."""
        deadline = self.state.next_deadline()
        if deadline is not None and deadline <= self.now:
            fired = self.tick()
            # A due clock that neither fires nor moves: stuck (the clock check says so).
            return (
                isinstance(fired, list) and bool(fired)
            ) or self.state.next_deadline() != deadline
        if self.abandon_at is not None and self.commands >= self.abandon_at:
            self.abandon_at = None
            self.execute(Abandon(ABANDON_REASON))
            return True
        if deadline is not None and self.rng.random() < TIMEOUT_CHANCE:
            self.now = self.late(deadline)
            self.tick()
            return True
        command = self.play(self.state, self.rng)
        if command is None:
            if deadline is None:
                return False  # nobody has anything to do, and no clock will change that
            self.now = self.late(deadline)
            self.tick()
            return True
        if not isinstance(command, Join | Start | Act | Tick | Abandon):
            self.fail(
                f"play returned {command!r}, not a command (Join, Start, Act, Tick, Abandon) "
                "or None"
            )
        think = self.now + self.rng.randint(0, THINK_MS)
        self.now = think if deadline is None else max(self.now, min(think, deadline - 1))
        self.execute(command)
        return True
