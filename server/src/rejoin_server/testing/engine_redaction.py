"""The redaction rule: `event_for` keeps every event's seq and kind for every viewer, and no view
or event shows a viewer another player's private data before the game reveals it.

What is private is the caller's to say, as a function `secrets(state, player_id)` listing the JSON
values private to that player in that state (poker: each hole card not shown at showdown). Each
value is looked for, by structure (`engine_json`), in what every other viewer gets: the views of
the live state after each command, and every event as `event_for` gives it, both on the live state
and on a replayed game at the event's own seq (so that a card dealt and shown within one command
is still private at the seq it was dealt). A value that is also the viewer's own is theirs to see.

So that a check cannot pass by looking for nothing, `secrets` must list something in some state,
and each value it lists must be found, by the same match, in what its owner gets (their view or an
event as `event_for` gives it to them) at some point: then it names real data in the game's shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rejoin_server.games.base import Command, Event, GameState
from rejoin_server.testing.engine_checks import Check
from rejoin_server.testing.engine_json import Secret, SecretIndex, json_equal, json_problem, plain
from rejoin_server.testing.engine_run import GameRun, Secrets, Step, Tally


class RedactionCheck(Check):
    name = "redaction"
    uses_replay = True

    def __init__(self, secrets: Secrets[Any]) -> None:
        self.secrets = secrets
        self._seen: set[tuple[str, str]] = set()  # (owner, value as JSON) found in their sight
        self._unseen: dict[tuple[str, str], Secret] = {}  # listed, not yet found

    def vacuous(self, tally: Tally) -> str | None:
        if tally.secrets == 0:
            return super().vacuous(tally) or (
                "`secrets` listed nothing for any player in any state: list each player's "
                "private data (a card they hold, their dice with their id), and let `play` "
                "bring the game to where someone holds some"
            )
        if tally.unseen:
            (_, owner, _), (value, where) = next(iter(tally.unseen.items()))
            return (
                f"secrets(state, {owner!r}) listed {value!r} ({where}), and "
                f"{owner!r} never got it, neither in view({owner!r}) nor in an event as "
                f"event_for gives it to {owner!r}: `secrets` must list the values as the game "
                "shows them to their owner (the same JSON shape: an object matches an object "
                "holding all its keys with equal values), else no leak of them can be found"
            )
        return super().vacuous(tally)

    def started(self, run: GameRun[Any]) -> None:
        self._views(run, None)

    def replayed(self, run: GameRun[Any], event: Event, replay: GameState) -> None:
        self._event(run, None, event, replay, f"a replayed game at seq {event.seq}")

    def handled(self, run: GameRun[Any], step: Step) -> None:
        for event in step.events:
            self._event(run, step.command, event, run.state, "the live state")
        self._views(run, step.command)

    def _views(self, run: GameRun[Any], command: Command | None) -> None:
        private = self._private(run, run.state, command)
        for player in run.players:
            self._sighted(run, player, run.observed.views[player].value)
        for viewer in run.viewers:
            index = _hidden_from(private, viewer)
            if not index:
                continue
            sighting = index.find(run.observed.views[viewer].value, f"view({viewer!r})")
            if sighting is not None:
                self._leak(run, command, sighting.path, sighting.secret, viewer)

    def _event(
        self, run: GameRun[Any], command: Command | None, event: Event, state: GameState, on: str
    ) -> None:
        private = self._private(run, state, command)
        for viewer in run.viewers:
            what = f"event_for(event {event.seq} ({event.kind}), {viewer!r})"
            shown = state.event_for(event, viewer)
            if not isinstance(shown, Event):
                self.fail(run, command, f"{what} on {on} returned {shown!r}, not an Event")
            if (shown.seq, shown.kind, shown.at) != (event.seq, event.kind, event.at):
                self.fail(
                    run,
                    command,
                    f"{what} on {on} returned seq {shown.seq}, kind {shown.kind!r}, at {shown.at} for an "
                    f"event of seq {event.seq}, kind {event.kind!r}, at {event.at}. event_for "
                    "redacts the data only: it keeps seq, kind and at, so that every player sees "
                    "a gapless log.",
                )
            if viewer is not None:
                self._sighted(run, viewer, plain(shown.to_json()))
            index = _hidden_from(private, viewer)
            if not index:
                continue
            sighting = index.find(plain(shown.to_json()), what)
            if sighting is not None:
                self._leak(run, command, f"{sighting.path} (on {on})", sighting.secret, viewer)

    def _private(
        self, run: GameRun[Any], state: GameState, command: Command | None
    ) -> list[Secret]:
        out: list[Secret] = []
        for player in run.players:
            for value in _listed(self.secrets(state, player)):
                problem = json_problem(value, f"secrets(state, {player!r}) lists a value that")
                if problem is None and _everywhere(value):
                    problem = (
                        f"secrets(state, {player!r}) lists {value!r}, which every view is full of"
                    )
                if problem is not None:
                    self.fail(
                        run,
                        command,
                        f"{problem}: list JSON values that only this player's private data has "
                        '(a card "As"; an object like {"playerId": "p1", "dice": [2, 5]}).',
                    )
                out.append(Secret(player, value))
        self._record(run, out, command)
        return out

    def _record(self, run: GameRun[Any], private: list[Secret], command: Command | None) -> None:
        run.tally.secrets += len(private)
        for secret in private:
            key = (secret.owner, _key(secret.value))
            if key not in self._seen and key not in self._unseen:
                self._unseen[key] = secret
                run.tally.unseen[(run.seed, *key)] = (secret.value, run.where(command))

    def _sighted(self, run: GameRun[Any], viewer: str, shown: Any) -> None:
        """Mark the values listed as `viewer`'s own that `shown` (their view or event) holds."""
        mine = SecretIndex(s for s in self._unseen.values() if s.owner == viewer)
        if not mine:
            return
        for sighting in mine.sightings(shown, ""):
            key = (viewer, _key(sighting.secret.value))
            if self._unseen.pop(key, None) is not None:
                self._seen.add(key)
                del run.tally.unseen[(run.seed, *key)]

    def _leak(
        self,
        run: GameRun[Any],
        command: Command | None,
        path: str,
        secret: Secret,
        viewer: str | None,
    ) -> None:
        self.fail(
            run,
            command,
            f"{path} shows {secret.value!r} to {viewer!r}, and it is private to {secret.owner!r}. "
            "view() and event_for() must leave out another player's private data until the game "
            "reveals it (then `secrets` no longer lists it).",
        )


def _hidden_from(private: list[Secret], viewer: str | None) -> SecretIndex:
    """What `viewer` must not see: other players' private values, but for those that are also
    the viewer's own (two players may hold equal dice)."""
    own = [s.value for s in private if s.owner == viewer]
    return SecretIndex(
        s
        for s in private
        if s.owner != viewer and not any(json_equal(s.value, mine) for mine in own)
    )


def _everywhere(value: Any) -> bool:
    """Too common to tell a leak by: None, a boolean, an empty object or list."""
    return (
        value is None or isinstance(value, bool) or (isinstance(value, dict | list) and not value)
    )


def _listed(values: Iterable[Any]) -> list[Any]:
    if isinstance(values, str | bytes | dict):
        # A string is iterable too; a bare one would be searched for letter by letter.
        return [values]
    return list(values)


def _key(value: Any) -> str:
    """A listed value as one string, to know it again (dicts in any key order)."""
    return json.dumps(value, sort_keys=True)
