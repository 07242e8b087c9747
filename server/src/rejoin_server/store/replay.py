"""Folding a game's events into its state, operator rollbacks included.

A log is append-only, also across a rollback: `POST …/rollback` appends a `snapshot_restored`
event at seq S with `data.version` V, which means "the state at V, then seq S". So a replay that
meets one does not fold it into the state it has built: it takes the state at V (a kept snapshot
that verifies, else the events 1..V replayed, which may hold rollbacks of their own: recursion),
and hands the event to that state's `apply`, which moves its seq to S and restarts its clocks
(`GameState.apply`'s contract). Used by `store.restore` and by the engine contract checks
(`testing.engine_rollback`), so that both fold a log the one same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rejoin_server.errors import StateCorrupted
from rejoin_server.games.base import Event, GameState
from rejoin_server.store.codec import canonical_json, decode_object

SNAPSHOT_RESTORED = "snapshot_restored"

# The state at a version, fresh (the caller's own copy: `apply` changes it); raises StateCorrupted.
StateAt = Callable[[int], GameState]


def restored_data(version: int, reason: str, hand_number: object) -> dict[str, Any]:
    """The data of the `snapshot_restored` event that rolls a game back to `version`
    (docs/protocol.md): `handNumber` is what the restored state's spectator view says, or None."""
    hand = (
        hand_number if isinstance(hand_number, int) and not isinstance(hand_number, bool) else None
    )
    return {"version": version, "reason": reason, "handNumber": hand}


def restored_version(event: Event) -> int:
    """The version a `snapshot_restored` event rolls back to; ValueError when it names none
    before its own seq."""
    version = event.data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < event.seq:
        raise ValueError(f"its version {version!r} is not a seq before {event.seq}")
    return version


def rollback_versions(events: Iterable[Event]) -> list[int]:
    """The versions the rollbacks among `events` go back to (those that name one)."""
    found = []
    for event in events:
        if event.kind == SNAPSHOT_RESTORED:
            try:
                found.append(restored_version(event))
            except ValueError:
                continue  # `fold` says what is wrong with it, at its place in the log
    return found


def fold(
    state: GameState, events: Iterable[Event], game_id: str, state_at: StateAt
) -> tuple[GameState, int]:
    """`state` with `events` folded in, in order, and how many; a rollback among them replaces
    the state with `state_at(version)` before it is applied. Raises `StateCorrupted` at the first
    event missing or refused."""
    count = 0
    for event in events:
        expected = state.seq + 1
        if event.seq != expected:
            raise StateCorrupted(
                game_id, expected, f"it is missing (the log jumps from {state.seq} to {event.seq})"
            )
        try:
            if event.kind == SNAPSHOT_RESTORED:
                base = state_at(restored_version(event))
                base.apply(event)
                state = base
            else:
                state.apply(event)
        except (ValueError, KeyError, TypeError) as exc:
            # The game's own words may quote the event's cards: they go to the log, not to players.
            raise StateCorrupted(
                game_id,
                event.seq,
                f"the game cannot apply this {event.kind!r} event",
                detail=str(exc),
            ) from exc
        count += 1
    return state, count


def rebuilder(
    new_game: Callable[[], GameState],
    log: Sequence[Event],
    game_id: str,
    snapshot: Callable[[int], GameState | None] = lambda version: None,
    *,
    load: Callable[[Mapping[str, Any]], GameState],
) -> StateAt:
    """A `StateAt` that opens the snapshot at a version (`snapshot`: None when none is kept or
    it does not verify), else replays `log` (the game's events from seq 1, at least up to every
    version asked for) from a new game.

    Linear in the log, however many rollbacks it holds: a replay folds forward from the furthest
    state already built below the version asked, and keeps a dump (`load` opens it again) at every
    version a rollback in `log` goes back to, and at every version asked. So a rollback met on the
    way finds its state kept, never replays from seq 1 again (a chain of k rollbacks each
    replaying the one before from seq 1 would cost 2^k)."""
    by_seq: Mapping[int, Event] = {event.seq: event for event in log}
    wanted = set(rollback_versions(log))
    kept: dict[int, bytes] = {}  # version -> the state's dump there, as canonical JSON

    def state_at(version: int) -> GameState:
        opened = snapshot(version)
        if opened is not None:
            return opened
        if version in kept:
            return load(decode_object(kept[version]))
        if any(seq not in by_seq for seq in range(1, version + 1)):
            raise StateCorrupted(
                game_id,
                version,
                "a rollback goes back to it, and neither a snapshot nor the events up to it "
                "are there to rebuild it",
            )
        start = max((v for v in kept if v < version), default=0)
        state = load(decode_object(kept[start])) if start else new_game()
        for seq in range(start + 1, version + 1):
            state, _ = fold(state, [by_seq[seq]], game_id, state_at)
            if seq in wanted:
                kept[seq] = canonical_json(state.dump())
        kept[version] = canonical_json(state.dump())
        return state

    return state_at
