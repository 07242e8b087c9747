"""The kinds of game a server hosts: the engines it was given, found by `kind`.

An engine is any object with `kind`, `new_game` and `load` (`games.base.GameEngine`). Two more
methods are optional, so that a first engine is small:

- `settings(raw) -> dict`: the settings a new game is made with, checked and completed with their
  defaults (raise `GameRuleError("invalid_request", …)` naming the field). Without it the body is
  kept as it came, and `new_game` is what checks it.
- `settings_schema() -> dict`: the JSON Schema of those settings, listed by `GET /api/games/kinds`
  and `/openapi.json`. Without it the schema is `{"type": "object"}`.

and three attributes:

- `snapshot_after`: the event kinds after which a game is at a natural boundary (poker: a hand's
  end), where its snapshot is small and loads fast; without it, `game_completed`. Snapshots are
  also taken every `--snapshot-every` events whatever the kind.
- `joins_while_playing`: True when a game still takes players once it is `playing` (poker: a
  player sits down between hands). It decides whether the lobby lists a started game with a
  free seat. Without it, False: a game is listed only while `waiting`, so a game that refuses
  late joins is never offered to someone who would be refused.
- `private_data` (`games.base.PrivateData`): the paths of the private values in its events and
  dumps, encrypted at rest when the server has data keys. Without it, ALL of its event data and
  its whole dump are encrypted: secure by default, but nothing of it queryable.

`load_engine("package.module:attr")` is how `--game` finds one: `attr` is an engine, or a callable
taking no argument that returns one (a class, a factory).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any, cast

from rejoin_server.games.base import GameEngine, JsonDict, PrivateData

# A kind is part of URLs and messages: short, lower case, no spaces.
MAX_KIND_LENGTH = 32
_KIND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class UnservedKind(LookupError):
    """A kind of game this server does not host (in a request, or stored by another server)."""

    def __init__(self, kind: str, served: Iterable[str]) -> None:
        self.kind = kind
        self.served = tuple(served)
        super().__init__(kind)


DEFAULT_SNAPSHOT_AFTER = frozenset({"game_completed"})


class GameKinds:
    """The engines a server hosts, by kind. The first one is the default kind of `POST /api/games`."""

    def __init__(self, engines: Iterable[GameEngine]) -> None:
        self._engines: dict[str, GameEngine] = {}
        self._snapshot_after: dict[str, frozenset[str]] = {}
        self._joins_while_playing: dict[str, bool] = {}
        self._private: dict[str, PrivateData | None] = {}
        for engine in engines:
            kind = check_engine(engine)
            if kind in self._engines:
                raise ValueError(f"two engines are of kind {kind!r}; each kind is served once")
            self._engines[kind] = engine
            declared = getattr(engine, "snapshot_after", DEFAULT_SNAPSHOT_AFTER)
            self._snapshot_after[kind] = frozenset(declared)
            joins = getattr(engine, "joins_while_playing", False)
            if not isinstance(joins, bool):
                raise TypeError(
                    f"{kind} engine's joins_while_playing must be True or False, not {joins!r}"
                )
            self._joins_while_playing[kind] = joins
            self._private[kind] = _private_data(kind, engine)
        if not self._engines:
            raise ValueError("a server hosts at least one kind of game")

    @property
    def default(self) -> str:
        return next(iter(self._engines))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._engines)

    def engine(self, kind: str) -> GameEngine:
        """The engine of `kind`; `UnservedKind` when this server has none."""
        engine = self._engines.get(kind)
        if engine is None:
            raise UnservedKind(kind, self._engines)
        return engine

    def settings(self, kind: str, raw: Mapping[str, Any]) -> JsonDict:
        """A new game's settings as the engine completes them (`GameRuleError` when refused)."""
        engine = self.engine(kind)
        complete = getattr(engine, "settings", None)
        if complete is None:
            return dict(raw)
        settings = complete(raw)
        if not isinstance(settings, dict):
            raise TypeError(f"{kind} engine's settings() returned {type(settings).__name__}")
        return cast(JsonDict, settings)

    def snapshot_after(self, kind: str) -> frozenset[str]:
        """The event kinds after which a game of `kind` takes a snapshot."""
        return self._snapshot_after[kind]

    def joins_while_playing(self, kind: str) -> bool:
        """Whether a game of `kind` takes players once it is `playing` (for the lobby)."""
        return self._joins_while_playing[kind]

    def private_data(self, kind: str) -> PrivateData | None:
        """What a game of `kind` declares private; None: it declares nothing (all of it is)."""
        return self._private[kind]

    def schema(self, kind: str) -> JsonDict:
        describe = getattr(self.engine(kind), "settings_schema", None)
        return cast(JsonDict, describe()) if describe is not None else {"type": "object"}

    def describe(self) -> list[JsonDict]:
        """`GET /api/games/kinds`: every kind served, the default first, with its settings."""
        return [{"kind": kind, "settings": self.schema(kind)} for kind in self._engines]


def _private_data(kind: str, engine: object) -> PrivateData | None:
    declared = getattr(engine, "private_data", None)
    if declared is None:
        return None
    if not isinstance(declared, PrivateData):
        raise TypeError(
            f"{kind} engine's private_data must be a rejoin_server.games.PrivateData, "
            f"not {declared!r}"
        )
    paths = [*declared.state, *(p for ps in declared.events.values() for p in ps)]
    for path in paths:
        if not isinstance(path, str) or (path and "" in path.split(".")):
            raise ValueError(
                f"{kind} engine's private_data has the path {path!r}: write keys joined by "
                "single dots, * for every element (e.g. seats.*.holeCards)"
            )
    return declared


def check_engine(engine: object) -> str:
    """The engine's kind, once it is seen to be an engine; TypeError/ValueError saying why not."""
    missing = [name for name in ("kind", "new_game", "load") if not hasattr(engine, name)]
    if missing:
        raise TypeError(
            f"{engine!r} is not a game engine: it has no {', '.join(missing)} "
            "(see rejoin_server.games.GameEngine)"
        )
    kind = getattr(engine, "kind")  # noqa: B009 - an attribute of an object we do not type
    if (
        not isinstance(kind, str)
        or not 0 < len(kind) <= MAX_KIND_LENGTH
        or not set(kind) <= _KIND_CHARS
    ):
        raise ValueError(
            f"a game's kind must be 1 to {MAX_KIND_LENGTH} lower-case letters, digits, "
            f"'-' or '_', not {kind!r}"
        )
    return kind


def load_engine(spec: str) -> GameEngine:
    """The engine named by `MODULE:ATTR` (`--game`). Raises ValueError with one line saying what
    is wrong: the form, a module that does not import, a missing attribute, not an engine."""
    module_name, sep, attr = spec.strip().partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--game {spec!r}: write MODULE:ATTR, e.g. liars_dice:LiarsDiceEngine")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(
            f"--game {spec}: module {module_name!r} does not import "
            f"({type(exc).__name__}: {exc}); is it installed, or on PYTHONPATH?"
        ) from exc
    target: object = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ValueError(f"--game {spec}: {module_name} has no {attr!r}")
        target = getattr(target, part)
    engine = target
    # A class has `new_game` too, as a function: it is called like any other factory.
    if isinstance(engine, type) or (not hasattr(engine, "new_game") and callable(engine)):
        try:
            engine = engine()
        except Exception as exc:
            raise ValueError(
                f"--game {spec}: calling {attr}() failed ({type(exc).__name__}: {exc})"
            ) from exc
    try:
        check_engine(engine)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--game {spec}: {exc}") from exc
    return cast(GameEngine, engine)
