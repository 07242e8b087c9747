"""The WebSocket benchmarks of `nox -s bench` (issue 4): real `python -m rejoin_server` processes,
WebSocket clients on loopback, floors and a peer measured in the same run.

- **action → ack**: a heads-up table, both players connected over WebSocket; the player whose
  turn it is (as its own stream tells it) sends `action` (check, else call) and is timed until its
  `ack` (which the server queues behind the action's events). Beside it, the floor: the bare app's
  WebSocket echo round trip of an action-sized frame, and the server's own histogram of the same
  actions (`rejoin_action_seconds`, the host's work only).
  Then the same heads-up table again with 100 busy tables beside it in the same server (bots of
  the fan-out below acting after a short think time, hands dealt back to back, so showdowns happen
  all along): its action → ack over a window, with the load printed (actions/s and showdowns/s
  at the other tables, CPU). On PostgreSQL that row carries issue 16's target.
- **fan-out**: 100 tables of 6, all 600 players connected, bots acting over WebSocket as their
  turn comes; every `event` frame received by every client is counted over a fixed window after a
  warm-up: events delivered per second and actions per second, and action → ack under that load.
  Clients run in worker processes; their CPU time and the server's are printed.
- **reconnect storm**: about 1,000 players over about 170 tables stopped mid-hand, connected;
  SIGKILL the server and relaunch it at once; every client dials again (first retry within 100 ms,
  then a short backoff) with its newest token and last seq: time from the kill until every client
  has its `welcome`, and per client. Floor: the same storm against the bare app (kill → relaunch →
  every client connected and echoed).
- **peer**: Socket.IO 4 with connection state recovery against ours on one transient-disconnect
  workload (`ws_peer`).

The round trips are `ws_rtt.RoundTrips`, the storms `ws_storm.StormFigures`, the peer `ws_peer`;
this module holds the plan, runs the parts in order and prints them.

`python bench/run.py --only ws [--quick]` runs this part alone.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from bench import ws_peer
from bench.databases import POSTGRES, SQLITE, Databases
from bench.goals import Goal
from bench.profiler import Profiler
from bench.server_procs import (
    ServerDatabases,
    floor_proc,
    running,
    server_databases,
    server_proc,
)
from bench.server_suite import ServerRow, print_row, render_rows
from bench.stats import Summary, fmt_ms, percentile
from bench.ws_clients import echo_round_trips
from bench.ws_fanout import run_fanout, seat_idle
from bench.ws_rtt import RoundTrips
from bench.ws_storm import (
    StormFigures,
    ws_base,
)


@dataclass(frozen=True, slots=True)
class WsPlan:
    round_trips: int  # timed action → ack round trips (and as many floor echoes)
    fanout_tables: int
    fanout_warmup_s: float
    fanout_window_s: float
    storm_tables: int  # of 6 players each
    storm_repeats: int
    peer_clients: int  # a multiple of 6
    peer_actions: int  # HTTP actions per table while our clients are away
    peer_rounds: int
    dbs: tuple[str, ...]  # where fan-out, storm and the peer run (round trips: both)
    processes: int = 2  # client worker processes for fan-out and storm
    settle_s: float = 0.5
    # action → ack beside busy tables: how many tables of 6 bots, their think time before each
    # action (busy, but short of saturating two cores with the clients), the warm-up (about a
    # hand: every table deals its first hand at once, and showdowns only come once tables have
    # drifted apart) and the measured window.
    busy_tables: int = 100
    busy_think_s: float = 0.4
    busy_warmup_s: float = 10.0
    busy_window_s: float = 10.0


FULL_WS = WsPlan(
    round_trips=2000,
    fanout_tables=100,
    fanout_warmup_s=2.0,
    fanout_window_s=10.0,
    storm_tables=167,
    storm_repeats=3,
    peer_clients=600,
    peer_actions=4,
    peer_rounds=3,
    dbs=(SQLITE, POSTGRES),
)
QUICK_WS = WsPlan(
    round_trips=200,
    fanout_tables=100,
    fanout_warmup_s=1.0,
    fanout_window_s=3.0,
    storm_tables=167,
    storm_repeats=1,
    peer_clients=600,
    peer_actions=3,
    peer_rounds=1,
    dbs=(SQLITE,),
    settle_s=0.3,
    busy_warmup_s=8.0,
    busy_window_s=5.0,
)


@dataclass(slots=True)
class WsResults:
    rows: list[ServerRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


# --- the suite ----------------------------------------------------------------------------------


class WsSuite:
    def __init__(
        self,
        plan: WsPlan,
        dbs: ServerDatabases,
        console: Console,
        profiler: Profiler | None = None,
    ) -> None:
        self.plan = plan
        self.dbs = dbs
        self.console = console
        self.profiler = profiler or Profiler(None)
        self.results = WsResults()
        self.round_trips = RoundTrips(self)
        self.storms = StormFigures(self)

    def run(self, only: str | None = None) -> WsResults:
        parts = {"rtt", "fanout", "storm", "peer"} if only in (None, "ws") else {only}
        if "rtt" in parts:
            with running(floor_proc("ws-floor")) as floor:
                echo = asyncio.run(echo_round_trips(ws_base(floor), self.plan.round_trips))
            for db in (SQLITE, POSTGRES):
                self.round_trips.lone(db, Summary.of(echo))
            for db in (SQLITE, POSTGRES):
                self.round_trips.busy(db, Summary.of(echo))
        if "fanout" in parts:
            for db in self.plan.dbs:
                self.fanout(db)
        if "storm" in parts:
            floor_run = self.storm_floor()
            for db in self.plan.dbs:
                self.storm(db, floor_run)
        if "peer" in parts:
            ws_peer.run(self.plan, self.dbs, self.console, self.results)
        return self.results

    # --- 1. action → ack (`ws_rtt.RoundTrips`) -------------------------------------------------

    # --- 2. fan-out ---------------------------------------------------------------------------

    def fanout(self, db: str) -> None:
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "ws_fanout")
        server = server_proc(url, f"ws-fanout-{db}")
        with running(server), httpx.Client(base_url=server.url, timeout=30.0) as http:
            tables = [seat_idle(http, 6) for _ in range(plan.fanout_tables)]
            measured = run_fanout(
                http,
                ws_base(server),
                tables,
                [server],
                processes=plan.processes,
                warmup_s=plan.fanout_warmup_s,
                window_s=plan.fanout_window_s,
            )
        done = dict(enumerate(measured.shares))
        server_cpu = measured.server_cpu_s[0]
        window = plan.fanout_window_s
        events = sum(s.events for s in done.values())
        acks = sum(s.acks for s in done.values())
        latencies = [x for s in done.values() for x in s.latencies]
        errors = [e for s in done.values() for e in s.errors]
        players = plan.fanout_tables * 6
        if not latencies:
            raise RuntimeError(f"fan-out on {db}: no action acknowledged; errors: {errors[:3]}")
        ordered = sorted(latencies)
        mine = Summary(
            len(ordered),
            statistics.median(ordered) * 1e3,
            percentile(ordered, 99) * 1e3,
            events / window,
        )
        self.row(
            ServerRow(
                f"WS fan-out, {plan.fanout_tables}x6 bots: events delivered/s (p50/p99: "
                "action → ack)",
                db,
                mine,
            )
        )
        self.row(
            ServerRow(
                "  the same: actions/s",
                db,
                Summary(mine.count, mine.median_ms, mine.p99_ms, acks / window),
            )
        )
        client_cpu = ", ".join(f"{s.cpu_s / window:.0%}" for s in done.values())
        self.note(
            f"{db} fan-out: {players} players over WebSocket at {plan.fanout_tables} tables, "
            f"bots checking/calling as their turn comes, hands dealt at once "
            f"(autoNextHand, no delay); over {window:g} s after a {plan.fanout_warmup_s:g} s "
            f"warm-up: {events / window:,.0f} event frames delivered/s, {acks / window:,.0f} "
            f"actions/s ({events / max(1, acks):.1f} event frames per action: each event goes "
            f"to the 6 players of its table), "
            f"action → ack p50 {fmt_ms(mine.median_ms)} p99 {fmt_ms(mine.p99_ms)}. CPU over the "
            f"window: server {server_cpu / window:.0%} of a core; client processes "
            f"({len(done)}) {client_cpu} each. "
            + _bottleneck(server_cpu / window, [s.cpu_s / window for s in done.values()])
            + (f" {len(errors)} errors, e.g. {errors[:2]}." if errors else "")
        )

    # --- 3. reconnect storm (`ws_storm.StormFigures`) ------------------------------------------

    def storm_floor(self) -> list[float]:
        return self.storms.floor()

    def storm(self, db: str, floor_walls: list[float]) -> tuple[Summary, Summary]:
        """Kill → every client welcomed, over the plan's storms: that wall time and the per-client
        times (the cluster suite prints its own beside them)."""
        return self.storms.run(db, floor_walls)

    # --- printing -----------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.results.notes.append(text)

    def row(self, row: ServerRow) -> None:
        self.results.rows.append(row)
        print_row(self.console, row)


def _bottleneck(server: float, clients: list[float]) -> str:
    if server >= 0.85:
        return "The server's one core is saturated: it sets the rate."
    if any(c >= 0.85 for c in clients):
        return "A client process is saturated: the clients, not the server, set the rate."
    return (
        "Neither side is at a full core: with two cores shared by the server, the clients "
        "(and the database), the machine as a whole is the limit."
    )


def run(
    dbs: Databases,
    console: Console,
    *,
    quick: bool,
    only: str | None = None,
    profiler: Profiler | None = None,
) -> WsResults:
    plan = QUICK_WS if quick else FULL_WS
    with server_databases(dbs) as made:
        return WsSuite(plan, made, console, profiler).run(only)


def render(results: WsResults, console: Console) -> None:
    render_rows(
        console,
        "rejoin WebSocket benchmarks (real server processes, clients on loopback; "
        "floor = bare Starlette app on the same uvicorn; peer = Socket.IO 4)",
        results.rows,
        "WebSocket notes:",
        results.notes,
        "p99 is nearest-rank (with fewer than 100 samples, the maximum: storm rows have one sample "
        "per repeat). Ratios are ours / the compared figure (below 1x: ours takes less time).",
    )
