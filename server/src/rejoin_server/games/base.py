"""The seam between the server and a game: what the host, the store and the channels know of one.

A game is event-sourced. `GameState.handle` validates a command, applies the events it causes to
the in-memory state and returns them; `GameState.apply` folds one stored event into the state and is
the *only* code that changes it, so replaying the log rebuilds exactly what `handle` built live.
Randomness (dealt cards) is drawn inside `handle` and recorded in the event, never in `apply`.

Nothing here knows poker: the reference No-Limit Hold'em table in `games.poker` is one implementation,
and another game plugs in by implementing `GameEngine` and `GameState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

GameStatus = Literal["waiting", "playing", "completed"]
JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a game's log. `seq` is 1, 2, 3 … gapless per game; `at` is ms since the epoch."""

    seq: int
    kind: str
    at: int
    data: Mapping[str, Any]

    def to_json(self) -> JsonDict:
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "data": dict(self.data)}


STREAM_NOTICE_KINDS = frozenset({"presence", "token", "close", "message"})
"""Event kinds a game must not use: an event stream's `event:` line is the event's kind, and a
browser's `EventSource` hears the stream's own notices (`presence`, `token`, `close`, which carry
no `id:`) by these names, and `message` in `onmessage`; a page could tell such an event from a
notice only by its id. The engine contract checks refuse them (`testing.engine_run`)."""


@dataclass(frozen=True, slots=True)
class PrivateData:
    """What of a game's stored JSON is private, for encryption at rest (docs/operations.md,
    "Private data at rest"): an engine's optional `private_data` attribute.

    `events` maps an event kind to paths inside its `data`; `state` lists paths inside `dump()`.
    A path is keys joined by dots, `*` standing for every element of a list or every value of an
    object: `"cards"`, `"seats.*.holeCards"`, `"h.c"`. With data keys set, the values at these
    paths are stored encrypted (replaced by null in the stored JSON) and everything else stays
    plain, queryable JSON; an event kind not listed keeps all of its data plain. An engine that
    declares nothing has ALL of its event data and its whole dump encrypted."""

    events: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    state: tuple[str, ...] = ()


# Commands: what the host asks a game to do. They carry ids, never seats, so a game decides seating.


@dataclass(frozen=True, slots=True)
class Join:
    player_id: str
    name: str
    seat: int | None = None


@dataclass(frozen=True, slots=True)
class Start:
    player_id: str


@dataclass(frozen=True, slots=True)
class Act:
    """A player's move: the wire action `{type, …fields}` with `type` taken out and the rest as
    `data` (poker reads `amount` from it). The server checks only that `type` is a short string
    and `data` a JSON object; what the fields mean, and which are allowed, is the game's to check
    (refuse with `GameRuleError("invalid_action", …)`)."""

    player_id: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tick:
    """Fire whatever is due at `now_ms`: an action clock that expired, the next hand after its delay.

    `attended=False`: no seated player has acted or been connected for a while (the host decides).
    Finish what is running by its clocks, but begin nothing new (poker deals no next hand), so a
    table nobody is at does not play itself for ever. Nothing due but something new: return `[]`;
    the host ticks again once a player is back.
    """

    attended: bool = True


@dataclass(frozen=True, slots=True)
class Abandon:
    """End a game its players abandoned (the host's cleanup job sends it after no player action for
    a configured time).

    It completes the game whatever its phase, also in the middle of a hand: no one wins, chips stay
    where they are, no clock is left running (`next_deadline()` is None) and every later command is
    refused with `game_completed` (a `Tick` returns `[]`). `reason` is recorded in the event that
    completes the game. Refused with `GameRuleError("game_completed", …)` when the game is already
    completed.
    """

    reason: str = "abandoned"


Command = Join | Start | Act | Tick | Abandon


@dataclass(slots=True)
class GameRuleError(Exception):
    """A command the rules refuse. `code` is an error code of docs/http-api.md (e.g. `not_your_turn`)."""

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class GameState(Protocol):
    """One live game in memory: the whole game, every secret included (all hole cards), folded from
    its event log. It never goes to a client (its `dump()` goes to the store, for snapshots).

    Not the wire protocol's `gameState`, which is one player's *view* of it, the JSON that `view()`
    builds with other players' secrets left out (in a WebSocket `welcome`, `GET …/state`, …).
    """

    @property
    def game_id(self) -> str: ...

    @property
    def seq(self) -> int:
        """The seq of the last event applied (0 for a game with no events)."""
        ...

    @property
    def status(self) -> GameStatus: ...

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        """Validate `command`, apply the events it causes, return them (seqs seq+1 …).

        Raises `GameRuleError` and leaves the state untouched when the command is refused. A `Tick`
        with nothing due returns `[]`.
        """
        ...

    def apply(self, event: Event) -> None:
        """Fold one event into the state. Its seq must be `self.seq + 1`; raises ValueError if the
        event cannot be applied (wrong seq, unknown kind, malformed data).

        One exception: `snapshot_restored` (an operator's rollback, data `{version, reason,
        handNumber}`). It is given the state at `version` (loaded from that snapshot, or rebuilt
        by replaying the log up to it) and an event whose seq is past it: the state sets its seq
        to the event's and restarts its clocks from the event's `at` (as if the state had just
        been reached), changing nothing else; it may be completed. A game that cannot be rolled
        back raises ValueError (docs/games.md, "Rolling back";
        `rejoin_server.testing.engine_rollback` checks it)."""
        ...

    def next_deadline(self) -> int | None:
        """When (ms since the epoch) the host must `handle(Tick())` next, or None."""
        ...

    def seat_of(self, player_id: str) -> int | None: ...

    def view(self, player_id: str | None) -> JsonDict:
        """The state as `player_id` may see it (`gameState`, docs/protocol.md); None = a spectator's view.

        This is the wire's `gameState`: a redacted JSON view of this `GameState`, not the object."""
        ...

    def event_for(self, event: Event, player_id: str | None) -> Event:
        """`event` as `player_id` may see it: private data of other seats redacted, same seq."""
        ...

    def dump(self) -> JsonDict:
        """The whole state as JSON-able data (ints, strings, lists, dicts; no floats), for snapshots."""
        ...


class GameEngine(Protocol):
    """A kind of game: makes new states and loads dumped ones."""

    kind: str

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> GameState:
        """A fresh game at seq 0. Raises `GameRuleError('invalid_request', …)` for bad settings."""
        ...

    def load(self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]) -> GameState:
        """A state from `dump()` output. Raises ValueError when `data` is not a valid dump."""
        ...
