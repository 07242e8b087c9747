"""The rules an engine keeps, each a `Check` watching a `GameRun`: replay equals live, dump/load
round trip, clocks, refusals (redaction is `engine_redaction`). A broken rule raises
AssertionError saying which rule, where (the game's seed, the command, the seq) and what to fix.
"""

from __future__ import annotations

from typing import Any, NoReturn

from rejoin_protocol.errors import ErrorCode
from rejoin_server.games.base import (
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    GameState,
    Join,
    JsonDict,
    Start,
    Tick,
)
from rejoin_server.store.codec import canonical_json, decode_object
from rejoin_server.testing.engine_json import Copy, json_problem
from rejoin_server.testing.engine_run import (
    ABANDON_REASON,
    STRANGER,
    GameRun,
    Observed,
    Step,
    Tally,
    observe,
)

# An action type no game has: every engine must refuse it.
UNKNOWN_ACTION = "contract-check-unknown-action"
KNOWN_CODES = frozenset(code.value for code in ErrorCode)
DAY_MS = 24 * 60 * 60 * 1000


class Check:
    """One rule watched over a run. Every hook does nothing unless a rule needs it."""

    name = "check"
    uses_replay = False  # the run folds the log into a new game alongside, event by event

    def started(self, run: GameRun[Any]) -> None:
        """The game is new (seq 0)."""

    def probe(self, run: GameRun[Any]) -> None:
        """Before each step: a rule may try commands of its own (through `run.execute`)."""

    def replayed(self, run: GameRun[Any], event: Event, replay: GameState) -> None:
        """`event` (as stored) was applied to the replayed game."""

    def handled(self, run: GameRun[Any], step: Step) -> None:
        """The live state handled a command into events."""

    def refused(
        self, run: GameRun[Any], command: Command, before: Observed, error: GameRuleError
    ) -> None:
        """The live state refused a command (`run.observed` is the state after it)."""

    def finished(self, run: GameRun[Any]) -> None:
        """The game is completed."""

    def vacuous(self, tally: Tally) -> str | None:
        """What the call's games never did that this rule needs to have been tested, or None."""
        if tally.acts == 0:
            return (
                "no Act was accepted (answered with events): `play` must return the Joins and "
                "the Start that begin the game, then mostly legal Acts read from the players' "
                "views, so that the rule is checked on real moves, not an empty game"
            )
        return None

    def fail(self, run: GameRun[Any], command: Command | None, text: str) -> NoReturn:
        raise AssertionError(
            f"[{self.name}] {run.where(command)}: {text} "
            f"(rerun this check with seed={run.seed}, games=1 for this game alone)"
        )


class ReplayCheck(Check):
    """A new game folded with `apply` over the log equals the live state after every command."""

    name = "replay"
    uses_replay = True

    def started(self, run: GameRun[Any]) -> None:
        self._compare(run, None)

    def handled(self, run: GameRun[Any], step: Step) -> None:
        self._compare(run, step.command)

    def _compare(self, run: GameRun[Any], command: Command | None) -> None:
        assert run.replay is not None
        found = run.observed.difference(observe(run.replay, run.viewers), "live", "replayed")
        if found is not None:
            self.fail(
                run,
                command,
                f"a new game folded with apply over the {len(run.log)} events of the log "
                f"differs from the live state: {found}. handle must change the state only by "
                "applying the events it returns, and apply must rebuild from each event (as "
                "JSON gives it back) all that handle built; else a restart brings back another "
                "game.",
            )


class RoundTripCheck(Check):
    """`engine.load(dump())` equals the state after every command, and goes on like it: folding
    the next events gives the live state (a restart is the newest snapshot + the events after)."""

    name = "round trip"

    def __init__(self) -> None:
        self._dump: JsonDict = {}
        self._copy = Copy.of({})
        self._loaded: GameState | None = None
        self._seq = 0

    def started(self, run: GameRun[Any]) -> None:
        self._take(run, None)

    def refused(
        self, run: GameRun[Any], command: Command, before: Observed, error: GameRuleError
    ) -> None:
        # Whether a refusal changed the state is the refusals check's: go on from the state.
        self._take(run, command)

    def handled(self, run: GameRun[Any], step: Step) -> None:
        changed = self._copy.difference(Copy.of(self._dump), "dump()", "when taken", "now")
        if changed is not None:
            self.fail(
                run,
                step.command,
                f"the dump taken at seq {self._seq} changed when the state handled the next "
                f"command ({changed}): dump() returns lists or dicts that the state goes on "
                "changing. Return copies: the host keeps a dump to go back to.",
            )
        loaded = self._loaded
        assert loaded is not None
        for event in step.stored:
            try:
                loaded.apply(event)
            except Exception as exc:
                self.fail(
                    run,
                    step.command,
                    f"the state loaded from the dump at seq {self._seq} could not apply event "
                    f"{event.seq} ({event.kind}): {exc!r}. load must restore everything apply "
                    "needs to go on.",
                )
        found = step.after.difference(observe(loaded, run.viewers), "live", "restored")
        if found is not None:
            self.fail(
                run,
                step.command,
                f"the state loaded from the dump at seq {self._seq}, folding the "
                f"{len(step.stored)} events that followed, differs from the live state: {found}. "
                "Either the state keeps something dump() leaves out (dump all the game needs to "
                "go on), or handle changes the state outside apply (check_replay tells which); "
                "a restart loads the newest snapshot and folds the events after it.",
            )
        self._take(run, step.command)

    def _take(self, run: GameRun[Any], command: Command | None) -> None:
        dump = run.state.dump()
        if not isinstance(dump, dict):
            self.fail(run, command, f"dump() returned a {type(dump).__name__}, not a dict")
        problem = json_problem(dump, "dump()")
        if problem is not None:
            self.fail(
                run, command, f"{problem}. A dump is stored as JSON and must load back equal."
            )
        try:
            loaded = run.engine.load(run.game_id, run.settings, decode_object(canonical_json(dump)))
        except Exception as exc:
            self.fail(
                run,
                command,
                f"engine.load raised {exc!r} on the dump at seq {run.state.seq}: load must take "
                "whatever dump() gives, after a JSON round trip.",
            )
        found = run.observed.difference(observe(loaded, run.viewers), "live", "loaded")
        if found is not None:
            self.fail(
                run,
                command,
                f"engine.load(game_id, settings, dump()) differs from the state it was dumped "
                f"from: {found}. dump() must hold the whole state and load restore all of it.",
            )
        self._dump, self._copy, self._loaded = dump, Copy.of(dump), loaded
        self._seq = run.state.seq


class ClockCheck(Check):
    """`next_deadline()` and `Tick` agree: a due Tick does something, any other changes nothing."""

    name = "clocks"
    PROBE_CHANCE = 0.15

    def probe(self, run: GameRun[Any]) -> None:
        if run.rng.random() >= self.PROBE_CHANCE:
            return
        deadline = run.state.next_deadline()
        if deadline is None:
            run.now += run.rng.choice([0, 1, run.rng.randint(1, DAY_MS)])
        elif deadline > run.now:
            run.now = run.rng.choice(
                [run.now, deadline - 1, run.rng.randint(run.now, deadline - 1)]
            )
        else:
            return  # due: the run ticks it
        run.tick()

    def handled(self, run: GameRun[Any], step: Step) -> None:
        if not isinstance(step.command, Tick):
            return
        due = step.before.deadline
        if due is None or run.now < due:
            when = "with no deadline" if due is None else f"before the deadline {due}"
            changed = step.before.difference(step.after, "before", "after")
            if step.events or changed is not None:
                did = (
                    f"returned {len(step.events)} event(s) ({', '.join(e.kind for e in step.events)})"
                    if step.events
                    else f"changed the state: {changed}"
                )
                self.fail(
                    run,
                    step.command,
                    f"a Tick {when} {did}. A Tick does what is due (next_deadline() <= now); "
                    "before that it returns [] and changes nothing.",
                )
            return
        moved = step.after.deadline
        if not step.events and (moved == due or (moved is not None and moved <= run.now)):
            self.fail(
                run,
                step.command,
                f"next_deadline() was {due} and a Tick at {run.now} returned no event and left "
                f"the deadline at {moved}. When next_deadline() <= now, handle(Tick()) must do "
                "what is due (return its events) or move the deadline past now; else the host "
                "ticks it again and again.",
            )

    def refused(
        self, run: GameRun[Any], command: Command, before: Observed, error: GameRuleError
    ) -> None:
        if isinstance(command, Tick):
            self.fail(
                run, command, f"handle refused a Tick ({error}): with nothing due it returns []."
            )

    def vacuous(self, tally: Tally) -> str | None:
        if tally.fired == 0:
            return super().vacuous(tally) or (
                "no due Tick fired (answered with events), so the clock rule was never tested: "
                "`play` must bring the game to where a clock runs (next_deadline() set, e.g. a "
                "player's turn; the run lets it run out now and then, and whenever play returns "
                "None), and max_commands must be long enough to get there"
            )
        return super().vacuous(tally)

    def finished(self, run: GameRun[Any]) -> None:
        deadline = run.state.next_deadline()
        if deadline is not None:
            self.fail(
                run,
                None,
                f"the game is completed and next_deadline() is {deadline}: a completed game "
                "runs no clock (None).",
            )
        run.now += DAY_MS
        run.tick()


class RefusalCheck(Check):
    """A refused command leaves the state as it was and says why with a known error code; a
    completed game refuses every command but Tick with `game_completed`."""

    name = "refusals"
    PROBE_CHANCE = 0.05

    def probe(self, run: GameRun[Any]) -> None:
        if run.rng.random() >= self.PROBE_CHANCE:
            return
        command = Act(run.rng.choice(run.players), UNKNOWN_ACTION, {})
        result = run.execute(command)
        if isinstance(result, list):
            self.fail(
                run,
                command,
                f"handle accepted an action of a type no game has ({len(result)} event(s)). "
                "Refuse the types your game does not know with GameRuleError('invalid_action', …).",
            )

    def refused(
        self, run: GameRun[Any], command: Command, before: Observed, error: GameRuleError
    ) -> None:
        if error.code not in KNOWN_CODES:
            self.fail(
                run,
                command,
                f"handle refused it with the code {error.code!r}, which is not one of "
                "rejoin_protocol.errors.ErrorCode (docs/http-api.md), so a client cannot tell "
                "what it means. Use one of: " + ", ".join(sorted(KNOWN_CODES)) + ".",
            )
        if not isinstance(error.message, str) or not error.message.strip():
            self.fail(
                run,
                command,
                f"handle refused it ({error.code}) with the message {error.message!r}: say what "
                "the player may do instead.",
            )
        found = before.difference(run.observed, "before", "after")
        if found is not None:
            self.fail(
                run,
                command,
                f"handle refused it ({error}) but changed the state: {found}. Check everything "
                "before applying the first event: a refused command leaves the state as it was "
                "(nothing of it is stored, so a restart would undo the change).",
            )

    def finished(self, run: GameRun[Any]) -> None:
        player = run.players[0]
        for command in (
            Join(STRANGER, "Stranger"),
            Start(player),
            Act(player, UNKNOWN_ACTION, {}),
            Abandon(ABANDON_REASON),
        ):
            result = run.execute(command)
            if not isinstance(result, GameRuleError) or result.code != "game_completed":
                got = (
                    f"returned {len(result)} event(s)"
                    if isinstance(result, list)
                    else f"refused it with {result.code!r}"
                )
                self.fail(
                    run,
                    command,
                    f"the game is completed and handle {got}: a completed game refuses every "
                    "command but Tick with GameRuleError('game_completed', …).",
                )
