"""What an operator's rollback reads and builds, whoever runs it: the server (`host.rollback`,
`POST /api/game/{id}/rollback`) or the offline command (`rejoin-server rollback`).

The versions a game can go back to are its kept snapshots (the last K are the rollback
history). Each is listed with a summary read from its spectator view (`view(None)`): generic, a
game whose view has no `handNumber`, `phase`, `status` or `seats` gets nulls there. A rollback
opens the snapshot at `version` (`open_snapshot`: checksum verified, the game loading it), hands
the game a `snapshot_restored` event at the next seq, and snapshots the result: the log stays
append-only, and `store.replay` folds it the same way after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError, KindNotServed
from rejoin_server.games.base import Event, GameEngine, GameState
from rejoin_server.games.kinds import GameKinds, UnservedKind
from rejoin_server.store.base import GameStore, SnapshotWrite, StoredSnapshot
from rejoin_server.store.codec import check_storable
from rejoin_server.store.replay import SNAPSHOT_RESTORED, restored_data, restored_version
from rejoin_server.store.restore import decode_event, open_snapshot, take_snapshot

# Characters of a rollback's `reason` (stored in its event): the one bound of HTTP and the CLI.
MAX_REASON = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def reason_problem(reason: str) -> str:
    """What is wrong with a rollback's `reason`, as "must …" ("" when nothing): the one rule of
    `POST …/rollback` and `rejoin-server rollback --reason`."""
    if not reason.strip():
        return "must not be blank: say why (e.g. 'misdeal in hand 4')"
    if len(reason) > MAX_REASON:
        return f"must be at most {MAX_REASON} characters"
    if _CONTROL.search(reason):
        return "must not contain control characters"
    return ""


@dataclass(frozen=True, slots=True)
class RolledBack:
    """A rollback built, not yet stored: the state after it, its event and its snapshot."""

    state: GameState
    event: Event
    snapshot: SnapshotWrite


def engine_of(kinds: GameKinds, kind: str, game_id: str) -> GameEngine:
    """The engine of a stored game's kind; `KindNotServed` (422 `invalid_request`, naming the
    kind) when this server was not started with it, as for every other route."""
    try:
        return kinds.engine(kind)
    except UnservedKind as exc:
        raise KindNotServed(exc.kind, exc.served, game_id) from exc


def summary(state: GameState) -> dict[str, Any]:
    """`{handNumber, phase, status, stacks}` from the state's spectator view; null where the
    game's view does not have it (`stacks`: `[{seat, name, stack}]` from the view's `seats`)."""
    view = state.view(None)
    seats = view.get("seats")
    stacks = None
    if isinstance(seats, list) and all(isinstance(seat, Mapping) for seat in seats):
        stacks = [
            {"seat": seat.get("seat"), "name": seat.get("name"), "stack": seat.get("stack")}
            for seat in seats
        ]
    hand = view.get("handNumber")
    phase = view.get("phase")
    return {
        "handNumber": hand if isinstance(hand, int) and not isinstance(hand, bool) else None,
        "phase": phase if isinstance(phase, str) else None,
        "status": state.status,
        "stacks": stacks,
    }


async def kept_versions(store: GameStore, kinds: GameKinds, game_id: str) -> list[dict[str, Any]]:
    """The game's kept snapshots, newest first: `{version, at, event, handBoundary, verified,
    problem, handNumber, phase, status, stacks}` (`at`: when it was taken, ms since the epoch;
    `event`: the kind of the event at `version`). Raises `GameNotFound`, `KindNotServed`."""
    log = await store.load(game_id)
    engine = engine_of(kinds, log.game.kind, game_id)
    boundaries = kinds.snapshot_after(log.game.kind)
    listed = []
    for snap in log.snapshots:
        problem, state = open_snapshot(engine, game_id, log.game.settings, snap)
        kind, boundary = await _boundary(store, game_id, snap.version, boundaries)
        entry: dict[str, Any] = {
            "version": snap.version,
            "at": snap.created_at,
            "event": kind,
            "handBoundary": boundary,
            "verified": state is not None,
            "problem": problem or None,
        }
        if state is not None:
            entry.update(summary(state))
        else:
            entry.update({"handNumber": None, "phase": None, "status": None, "stacks": None})
        listed.append(entry)
    return listed


async def _boundary(
    store: GameStore, game_id: str, version: int, boundaries: frozenset[str]
) -> tuple[str | None, bool]:
    """The kind of the event at `version`, and whether the game is at a natural boundary there
    (the event is one it snapshots after: poker's `hand_ended`); a rollback's own snapshot is at
    the boundary its version was at. Version 0 (no event yet) is one."""
    first: str | None = None
    for _ in range(16):  # rollbacks of rollbacks: a bounded walk back
        if version <= 0:
            return first, True
        raws = await store.read_events(game_id, version - 1, 1)
        if not raws or raws[0].seq != version:
            return first, False
        event = decode_event(game_id, raws[0])
        first = first or event.kind
        if event.kind != SNAPSHOT_RESTORED:
            return first, event.kind in boundaries
        try:
            version = restored_version(event)
        except ValueError:
            return first, False
    return first, False


def build_rollback(
    engine: GameEngine,
    game_id: str,
    settings: Mapping[str, Any],
    snapshots: Sequence[StoredSnapshot],
    *,
    version: int,
    seq: int,
    now_ms: int,
    reason: str,
    listed_by: str = "",
) -> RolledBack:
    """The game rolled back to snapshot `version` by the event at `seq` (the game's next), taken
    at `now_ms`. Raises `invalid_request` naming the versions kept when `version` is not one
    (`listed_by`: what lists them, the HTTP route unless given), or
    why the snapshot cannot be opened, or that the game's kind cannot be rolled back (its `apply`
    refused the event)."""
    snap = next((s for s in snapshots if s.version == version), None)
    if snap is None:
        kept = ", ".join(str(s.version) for s in snapshots) or "none"
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Game {game_id} keeps no snapshot at version {version}; the versions kept are "
            f"{kept} ({listed_by or f'GET /api/game/{game_id}/versions'} lists them). Roll back "
            "to one of those.",
        )
    problem, state = open_snapshot(engine, game_id, settings, snap)
    if state is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Snapshot {version} of game {game_id} cannot be opened: {problem}. Roll back to "
            "another version.",
        )
    data = restored_data(version, reason, summary(state)["handNumber"])
    check_storable([data])
    event = Event(seq, SNAPSHOT_RESTORED, now_ms, data)
    try:
        state.apply(event)
    except (ValueError, KeyError, TypeError) as exc:
        raise cannot_roll_back(engine.kind, exc) from exc
    if state.seq != seq:
        raise cannot_roll_back(engine.kind, f"its state is at seq {state.seq} after it")
    return RolledBack(state, event, take_snapshot(state))


def cannot_roll_back(kind: str, why: object) -> ApiError:
    return ApiError(
        ErrorCode.INVALID_REQUEST,
        f"Games of kind {kind!r} cannot be rolled back: the game refused the snapshot_restored "
        f"event ({why}). Its engine's apply must take it (docs/games.md, 'Rolling back').",
    )
