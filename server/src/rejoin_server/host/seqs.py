"""How far one loaded game's events have gone: handed to readers, stored, snapshotted.

A game gives its events seqs 1, 2, 3 … in memory (`GameState.seq` is the last one applied). The
marks below say how far each has travelled since. `SeqMarks` is the only code that moves them, so
that their rules are read here:

- `published_seq <= state.seq`: the last event handed to readers. The two are equal whenever no
  command is in flight: a command applies its events in memory *before* its commit and they are
  published once the commit has stored or queued them, under the game's lock.
- `durable_seq <= state.seq`: every event up to it is in the store. It only grows: `stored` ignores
  a seq it has passed (a write whose answer was lost is reported again when its retry finds it
  stored). With strict durability and the store up, an event is stored before it is published, so
  `durable_seq` runs ahead of `published_seq` for the moment between the two; degraded or relaxed,
  it lags behind and the answers say `durable: false`.
- `stored_at_ms`: when the store last took a write of this game (events or a snapshot).
- `stored_snapshot_seq <= last_snapshot_seq <= state.seq`: the last snapshot known to be stored,
  and the last one taken (stored or still queued). Snapshots are counted from the last one taken,
  so that a game whose writes queue does not take one per command; `persist` checks
  `stored_snapshot_seq` (and `durable_seq`) itself.
- `stored_snapshot_seq <= durable_seq`: a snapshot is stored with, or after, the events it covers.
"""

from __future__ import annotations


class SeqMarks:
    __slots__ = (
        "_durable_seq",
        "_last_snapshot_seq",
        "_published_seq",
        "_stored_at_ms",
        "_stored_snapshot_seq",
    )

    def __init__(self, seq: int, snapshot_seq: int, stored_at_ms: int) -> None:
        """The marks of a game just loaded from (or created in) the store: everything up to its
        `seq` is stored and nothing after it is published yet; its newest stored snapshot is at
        `snapshot_seq`."""
        self._published_seq = seq
        self._durable_seq = seq
        self._stored_at_ms = stored_at_ms
        self._last_snapshot_seq = snapshot_seq
        self._stored_snapshot_seq = snapshot_seq

    @property
    def published_seq(self) -> int:
        return self._published_seq

    @property
    def durable_seq(self) -> int:
        return self._durable_seq

    @property
    def stored_at_ms(self) -> int:
        return self._stored_at_ms

    @property
    def last_snapshot_seq(self) -> int:
        return self._last_snapshot_seq

    @property
    def stored_snapshot_seq(self) -> int:
        return self._stored_snapshot_seq

    def published(self, seq: int) -> None:
        """The event at `seq` has been handed to the game's readers."""
        self._published_seq = seq

    def stored(self, seq: int, now_ms: int) -> bool:
        """The store took this game's events up to `seq`. True when that moved `durable_seq`."""
        if seq <= self._durable_seq:
            return False
        self._durable_seq = seq
        self._stored_at_ms = now_ms
        return True

    def is_durable(self, seq: int) -> bool:
        return seq <= self._durable_seq

    def unstored(self, seq: int) -> int:
        """How many events up to `seq` (the state's) the store does not hold yet."""
        return seq - self._durable_seq

    def snapshot_due(self, seq: int, every: int) -> bool:
        """Have `every` events passed since the last snapshot taken?"""
        return seq - self._last_snapshot_seq >= every

    def snapshot_taken(self, seq: int, *, stored: bool) -> None:
        """A snapshot at `seq` went with a commit: written with its events (`stored`), or queued
        behind the game's earlier writes."""
        self._last_snapshot_seq = seq
        if stored:
            self._stored_snapshot_seq = seq

    def snapshot_stored(self, seq: int, now_ms: int) -> None:
        """A snapshot at `seq` was written on its own (`persist`), every event before it stored."""
        self._last_snapshot_seq = self._stored_snapshot_seq = seq
        self._stored_at_ms = now_ms
