"""The sealing rule: with the values an engine declares private (`private_data`) taken out, as the
store takes them out to encrypt them, no private value is left in the plain part of any event or
dump.

After every command, each of its events (as stored: JSON gives its data back) and the state's
`dump()` are split as `store.sealing.split` splits them; every value `secrets(state, p)` lists,
for every player, is looked for in what stays plain: by structure (`engine_json`, as the
redaction check does), and as text inside a plain string, because a dump may pack private values
into one string (poker's `"AsKd…"`, Liar's Dice's `"25"`): the strings one player's `secrets`
lists, joined in their order (two or more of them: one card alone, `"2c"`, shows up by chance in
other strings, a pair hardly), and the items of a list inside a listed object joined (a player's
dice, two or more). An engine that declares nothing has everything sealed, and passes.

So that the check cannot pass by looking for nothing, some listed value must be found by the same
match in the events or dumps before sealing, at some point of the games.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from rejoin_server.store.sealing import Plan, event_paths, plan_of, split
from rejoin_server.testing.engine_checks import Check
from rejoin_server.testing.engine_json import Secret, SecretIndex, json_problem, plain
from rejoin_server.testing.engine_run import GameRun, Secrets, Step, Tally

# Fewer items joined (one card, one die) show up by chance in other strings.
_MIN_ITEMS = 2


class SealingCheck(Check):
    name = "sealing"

    def __init__(self, secrets: Secrets[Any]) -> None:
        self.secrets = secrets
        self._plan: Plan | None = None

    def vacuous(self, tally: Tally) -> str | None:
        if tally.unsealed_sightings == 0:
            return super().vacuous(tally) or (
                "no value `secrets` listed was ever found in an event or a dump(), even before "
                "sealing: list each player's private data as the game stores it (a card "
                '"As"; an object like {"playerId": "p1", "dice": [2, 5]}), and let `play` '
                "bring the game to where someone holds some"
            )
        return super().vacuous(tally)

    def handled(self, run: GameRun[Any], step: Step) -> None:
        if self._plan is None:
            self._plan = plan_of(getattr(run.engine, "private_data", None))
        secrets = self._listed(run)
        if not secrets:
            return
        found = _Finder(SecretIndex(secrets), _texts(secrets))
        for event in step.events:
            data = orjson.loads(orjson.dumps(plain(event.data)))
            public, _ = split(data, event_paths(self._plan, event.kind))
            where = f"event {event.seq} ({event.kind})'s data"
            self._look(run, step, found=found, whole=data, public=public, where=where)
        dump = orjson.loads(orjson.dumps(plain(run.state.dump())))
        public, _ = split(dump, self._plan.state)
        self._look(run, step, found=found, whole=dump, public=public, where="dump()")

    def _listed(self, run: GameRun[Any]) -> list[Secret]:
        out: list[Secret] = []
        for player in run.players:
            listed = self.secrets(run.state, player)
            values = [listed] if isinstance(listed, str | bytes | dict) else list(listed)
            out.extend(Secret(player, v) for v in values if json_problem(v, "") is None)
        return out

    def _look(
        self, run: GameRun[Any], step: Step, *, found: _Finder, whole: Any, public: Any, where: str
    ) -> None:
        if found(whole) is not None:
            run.tally.unsealed_sightings += 1
        leak = found(public)
        if leak is not None:
            secret, how = leak
            self.fail(
                run,
                step.command,
                f"{where} keeps {secret.value!r}, private to {secret.owner!r}, in its plain part "
                f"({how}) once the values the engine declares private are taken out: add its "
                "path to the engine's private_data (rejoin_server.games.PrivateData), so that it "
                "is encrypted at rest",
            )


@dataclass(frozen=True, slots=True)
class _Finder:
    index: SecretIndex
    texts: list[tuple[str, Secret]]

    def __call__(self, value: Any) -> tuple[Secret, str] | None:
        """The first listed value `value` shows, and how."""
        sighting = self.index.find(value, "")
        if sighting is not None:
            return sighting.secret, f"at {sighting.path or 'the top'}"
        for string in _strings(value):
            for text, secret in self.texts:
                if text in string:
                    return secret, f"as text in the string {string!r}"
        return None


def _texts(secrets: list[Secret]) -> list[tuple[str, Secret]]:
    """How listed values may show as text inside a string (see the module's docstring)."""
    out: list[tuple[str, Secret]] = []
    owners = dict.fromkeys(s.owner for s in secrets)
    for owner in owners:
        strings = [s for s in secrets if s.owner == owner and isinstance(s.value, str)]
        if len(strings) >= _MIN_ITEMS:
            out.append(("".join(s.value for s in strings), strings[0]))
    for secret in secrets:
        if isinstance(secret.value, dict):
            for item in secret.value.values():
                if isinstance(item, list) and len(item) >= _MIN_ITEMS and all(map(_scalar, item)):
                    out.append(("".join(str(x) for x in item), secret))
    return out


def _scalar(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
