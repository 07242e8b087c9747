"""What every store under test is asked to do, as plain data shared by our side and the peer's.

A `Batch` is what one command produced: its events, the game's status after them and, at a hand
boundary (a `hand_ended` among the events), the snapshot the server takes then. A `Recording` is a
table's batches in order, so that the "store only" variants can replay the very same writes
without the game's CPU in the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rejoin_server.games.base import Event, GameStatus
from rejoin_server.store.base import SnapshotWrite

SEATS = 6


@dataclass(frozen=True, slots=True)
class Batch:
    events: list[Event]
    status: GameStatus
    now_ms: int
    snapshot: SnapshotWrite | None


@dataclass(slots=True)
class Recording:
    """One game: its settings, the untimed setup (joins, first deal), then the timed commands."""

    game_id: str
    settings: dict[str, Any]
    setup: list[Batch] = field(default_factory=list)
    timed: list[Batch] = field(default_factory=list)


@dataclass(slots=True)
class AppendRun:
    """Per-append latencies (seconds) and the wall time of the timed phase of all tables."""

    latencies: list[float]
    wall_s: float
    recordings: list[Recording] = field(default_factory=list)
    games_completed: int = 0  # tables that ended (one player won everything) and were replaced
    game_s: float = 0.0  # time spent in the game itself (`Bot.step`) during the timed phase


@dataclass(slots=True)
class RestoreRun:
    latencies: list[float]
    events: int  # events in the game's log
    snapshot_version: int  # the seq of the snapshot restore started from
    replayed: int  # events applied after it
    extra: dict[str, list[float]] = field(default_factory=dict)  # breakdowns, e.g. "load"


def merge(per_table: list[list[float]]) -> list[float]:
    return [x for samples in per_table for x in samples]
