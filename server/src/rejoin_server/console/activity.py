"""`Activity`: what happened on this server lately, for the console's charts and its resume figures.

A ring of `BUCKETS` buckets of `BUCKET_MS` each (15 minutes of 5 seconds). Each bucket counts the
player actions applied and the resumes that won a seat (with their outage, see below). Recording is
O(1): the bucket of the current time, reset when the ring comes round to it again. Nothing is kept
longer than the ring, nor across a restart (the Prometheus metrics are the long-term record).

**Outage** (what a resume's figure means): how long the seat had no live connection (a WebSocket or
an SSE stream) as this process saw it, up to the moment its resume won the seat again. Two kinds:

- `drop`: the process saw the seat's last connection close (`seat_left`); the outage runs from that
  close to the resume. A client that vanished without closing is seen to leave once its heartbeat
  times out, so this is at most the client's own outage, never more.
- `restart`: within `RESTART_TIMED_MS` of this process's start, a seat it never saw connected (its
  connection was to an earlier process of this server): the outage runs from the moment this
  process started, a lower bound of the client's (its connection broke before that).

Neither can be said of a resume while the seat still counts as connected (the server had not
noticed the drop yet, or a second device takes the seat), nor of a seat first seen later than
`RESTART_TIMED_MS` after the start (a game moved here from another node, a player back after the
game was unloaded, a player over plain HTTP): those are counted as resumes, `untimed`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rejoin_server.console.latency import LatencyBins

BUCKET_MS = 5_000
BUCKETS = 180  # 15 minutes
# How long after this process's start a resume of a seat it never saw connected is taken for a
# resume after the restart (clients come back within seconds; later, the seat's drop is unknown).
RESTART_TIMED_MS = 60_000
# Seats whose drop is remembered (for their resume's outage): the oldest are forgotten first.
SEATS_REMEMBERED = 100_000

OutageKind = Literal["drop", "restart"]


class _Bucket:
    __slots__ = ("actions", "drop", "index", "restart", "resumes", "resyncs", "untimed")

    def __init__(self, index: int) -> None:
        self.index = index  # (time // BUCKET_MS): which 5 seconds it counts
        self.actions = 0
        self.resumes = 0
        self.resyncs = 0
        self.untimed = 0  # resumes whose outage cannot be told (see the module's docstring)
        self.drop = LatencyBins()
        self.restart = LatencyBins()


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of the time series."""

    at_ms: int  # the bucket's start
    actions: int
    resumes: int
    resyncs: int
    outage_p50_ms: int | None  # of both kinds
    outage_max_ms: int | None


@dataclass(frozen=True, slots=True)
class Window:
    """The figures over the last `window_ms`."""

    window_ms: int
    actions: int
    resumes: int
    resyncs: int
    untimed: int
    drop: LatencyBins
    restart: LatencyBins
    points: list[Point]


class Activity:
    def __init__(self, clock: Callable[[], int]) -> None:
        self._clock = clock
        self.started_ms = clock()  # when this process began serving: `restart` outages start here
        self._ring: list[_Bucket | None] = [None] * BUCKETS
        self._left: OrderedDict[tuple[str, str], int] = OrderedDict()

    def _bucket(self, now: int) -> _Bucket:
        index = now // BUCKET_MS
        slot = index % BUCKETS
        bucket = self._ring[slot]
        if bucket is None or bucket.index != index:
            bucket = self._ring[slot] = _Bucket(index)
        return bucket

    # --- recording (the hot paths: O(1) each) ----------------------------------------------------

    def action(self) -> None:
        """A player action was applied (a duplicate answered again is not counted)."""
        self._bucket(self._clock()).actions += 1

    def seat_left(self, game_id: str, player_id: str) -> None:
        """The seat's last live connection closed."""
        left = self._left
        key = (game_id, player_id)
        left[key] = self._clock()
        left.move_to_end(key)
        if len(left) > SEATS_REMEMBERED:
            left.popitem(last=False)

    def resumed(self, game_id: str, player_id: str, *, connected: bool, resync: bool) -> None:
        """A resume won the seat; `connected`: the seat still counted as connected then."""
        now = self._clock()
        bucket = self._bucket(now)
        bucket.resumes += 1
        if resync:
            bucket.resyncs += 1
        left = self._left.pop((game_id, player_id), None)
        since_start = now - self.started_ms
        if connected:
            bucket.untimed += 1
        elif left is not None:
            bucket.drop.add(max(0, now - left))
        elif since_start <= RESTART_TIMED_MS:
            bucket.restart.add(max(0, since_start))
        else:
            bucket.untimed += 1

    # --- reading (the console) -------------------------------------------------------------------

    def window(self, window_ms: int = BUCKETS * BUCKET_MS) -> Window:
        """The last `window_ms` (at most the ring's 15 minutes), oldest bucket first; buckets
        with nothing in them are there too, with zeros, so a chart's time axis has no holes."""
        now_index = self._clock() // BUCKET_MS
        count = max(1, min(BUCKETS, -(-window_ms // BUCKET_MS)))
        buckets = []
        for index in range(now_index - count + 1, now_index + 1):
            found = self._ring[index % BUCKETS]
            buckets.append(found if found is not None and found.index == index else _Bucket(index))
        points = []
        for b in buckets:
            both = LatencyBins.merged((b.drop, b.restart))
            points.append(
                Point(
                    b.index * BUCKET_MS,
                    b.actions,
                    b.resumes,
                    b.resyncs,
                    both.quantile(0.5),
                    both.max_ms if both.count else None,
                )
            )
        return Window(
            count * BUCKET_MS,
            sum(b.actions for b in buckets),
            sum(b.resumes for b in buckets),
            sum(b.resyncs for b in buckets),
            sum(b.untimed for b in buckets),
            LatencyBins.merged(b.drop for b in buckets),
            LatencyBins.merged(b.restart for b in buckets),
            points,
        )
