"""Turning a stored log back into a live game, and taking the snapshots it starts from.

Restore = the newest snapshot whose checksum verifies + the events after it (an operator's
rollback among them, `snapshot_restored`, goes back to the state at its version: `store.replay`).
A snapshot that fails (checksum, JSON, or the engine refusing it) falls back to the next older
one, then to a replay from seq 1 on the game's stored settings. An event that is missing or cannot
be applied is not skipped: it raises `StateCorrupted` naming the game, the seq and what is wrong,
because a game restored past a hole would be a different game from the one the players saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Event, GameEngine, GameState
from rejoin_server.games.kinds import GameKinds
from rejoin_server.store.base import Epoch, GameStore, RawEvent, SnapshotWrite, StoredSnapshot
from rejoin_server.store.codec import canonical_json, checksum, decode_object
from rejoin_server.store.replay import StateAt, fold, rebuilder, rollback_versions


@dataclass(slots=True)
class Restored:
    state: GameState
    snapshot_version: int  # 0 when replayed from seq 1
    events_replayed: int
    # One line per snapshot that was passed over, saying why (for logs and metrics).
    rejected_snapshots: list[str] = field(default_factory=list)
    last_stored_ms: int = 0  # when the game's row was last written (its last append)
    settings: Mapping[str, Any] = field(default_factory=dict)  # the game's stored settings
    history: tuple[Epoch, ...] = ()  # the game's stored history epochs
    claims: Mapping[str, str] = field(default_factory=dict)  # player_id -> claim on their seat
    kind: str = ""  # the game's kind, whose engine restored it
    durability: str | None = None  # as stored in the game's row (`GameRecord.durability`)


def take_snapshot(state: GameState) -> SnapshotWrite:
    body = canonical_json(state.dump())
    return SnapshotWrite(version=state.seq, state=body, checksum=checksum(body))


def decode_event(game_id: str, raw: RawEvent) -> Event:
    if raw.problem:
        raise StateCorrupted(game_id, raw.seq, raw.problem)
    try:
        data = decode_object(raw.data)
    except ValueError as exc:
        raise StateCorrupted(game_id, raw.seq, f"its data is not a JSON object ({exc})") from exc
    return Event(seq=raw.seq, kind=raw.kind, at=raw.at, data=data)


async def restore_game(store: GameStore, games: GameKinds, game_id: str) -> Restored:
    """Raises `GameNotFound`, `StateCorrupted`, or `UnservedKind` for a game of a kind `games`
    does not hold (stored by a server that served more kinds)."""
    log = await store.load(game_id)
    engine = games.engine(log.game.kind)
    settings = log.game.settings
    rejected: list[str] = []
    # `log.events` starts after the newest snapshot; an older base needs the events in between.
    events_after_newest = list(log.events)
    for index, snap in enumerate(log.snapshots):
        problem, base = open_snapshot(engine, game_id, settings, snap)
        if base is None:
            rejected.append(f"snapshot {snap.version}: {problem}")
            continue
        state, version = base, snap.version
        if index == 0:
            raws = events_after_newest
        else:
            raws = await store.read_events(game_id, snap.version)
        break
    else:  # no snapshot that opens: from seq 1
        state, version = engine.new_game(game_id, settings), 0
        raws = events_after_newest if not log.snapshots else await store.read_events(game_id, 0)
    events = [decode_event(game_id, raw) for raw in raws]
    state_at = await _states_at(
        store, engine, game_id=game_id, settings=settings, snapshots=log.snapshots, events=events
    )
    state, replayed = fold(state, events, game_id, state_at)
    if state.seq < log.game.last_seq:
        raise StateCorrupted(
            game_id,
            state.seq + 1,
            f"it is missing (the log ends at {state.seq} but the game reached {log.game.last_seq})",
        )
    return Restored(
        state,
        version,
        replayed,
        rejected,
        log.game.updated_at,
        settings,
        log.game.history,
        log.claims,
        log.game.kind,
        log.game.durability,
    )


def open_snapshot(
    engine: GameEngine, game_id: str, settings: Mapping[str, Any], snap: StoredSnapshot
) -> tuple[str, GameState | None]:
    """The state a stored snapshot holds, or None and why it cannot be trusted (its checksum, its
    JSON, the game refusing it, its sealed values not decrypting). The operator console inspects
    snapshots with it too."""
    if snap.problem:
        return snap.problem, None
    try:
        data = decode_object(snap.state)
    except ValueError as exc:
        return f"not a JSON object ({exc})", None
    if checksum(canonical_json(data)) != snap.checksum:
        return "checksum mismatch", None
    try:
        state = engine.load(game_id, settings, data)
    except (ValueError, KeyError, TypeError) as exc:
        return f"the game refused it ({exc})", None
    if state.seq != snap.version:
        return f"it holds seq {state.seq}, not its version {snap.version}", None
    return "", state


async def _states_at(
    store: GameStore,
    engine: GameEngine,
    *,
    game_id: str,
    settings: Mapping[str, Any],
    snapshots: Sequence[StoredSnapshot],
    events: Sequence[Event],
) -> StateAt:
    """Where the rollbacks among `events` find the state they go back to (`store.replay`): the
    kept snapshot at that version when it verifies, else a replay of the events up to it, read
    here once (up to the furthest version any of them needs)."""

    def snapshot(version: int) -> GameState | None:
        for snap in snapshots:
            if snap.version == version:
                return open_snapshot(engine, game_id, settings, snap)[1]
        return None

    rebuilt = [v for v in rollback_versions(events) if v > 0 and snapshot(v) is None]
    log: list[Event] = []
    if rebuilt:
        raws = await store.read_events(game_id, 0, max(rebuilt))
        log = [decode_event(game_id, raw) for raw in raws]
    return rebuilder(
        lambda: engine.new_game(game_id, settings),
        log,
        game_id,
        snapshot,
        load=lambda data: engine.load(game_id, settings, data),
    )
