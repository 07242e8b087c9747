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

`python bench/run.py --only ws [--quick]` runs this part alone.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from bench import server_bench as sb
from bench import ws_peer
from bench.databases import Databases
from bench.goals import Goal, ratio_goal
from bench.pg_floor import commit_floor
from bench.profiler import Profiler, top_functions
from bench.report import Target
from bench.server_procs import (
    ServerDatabases,
    discard,
    floor_proc,
    running,
    server_databases,
    server_proc,
)
from bench.server_suite import ServerRow, print_row, render_rows
from bench.stats import Summary, fmt_ms, percentile
from bench.ws_clients import Client, Seat, Tally, echo_round_trips, open_all
from bench.ws_fanout import BLINDS, run_fanout, seat_idle, start_hand
from bench.ws_storm import (
    StormRun,
    storm,
    ws_base,
)
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

SQLITE = "SQLite"
POSTGRES = "PostgreSQL"
ROUND_TRIP_WARMUP = 20
# Issue 16's goal for one action on PostgreSQL while other tables play on the same server.
BUSY_TARGET_P50_MS = 1.0
BUSY_TARGET_P99_MS = 5.0


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


# Issue 16's goals for one node, ours / the bare app's storm (SQLite, PostgreSQL), and the time
# from the kill to the first welcome.
STORM_AT_MOST = {SQLITE: 1.25, POSTGRES: 1.4}
FIRST_WELCOME_MS = 400.0


# --- seating over HTTP --------------------------------------------------------------------------


def seats_of(tables: list[Table]) -> list[Seat]:
    return [_seat(t, p) for t in tables for p in t.players]


def _seat(table: Table, player: Player) -> Seat:
    return Seat(
        table.game_id, player.player_id, player.seat, player.token, player.client_id, table.seq
    )


async def heads_up(base_ws: str, http: httpx.Client, round_trips: int) -> Tally:
    """`round_trips` + ROUND_TRIP_WARMUP actions at a new heads-up table, both players over
    WebSocket, one at a time: each one's latency until its ack (the first ROUND_TRIP_WARMUP are
    the warm-up, for the caller to drop)."""
    tally = Tally(target_acks=round_trips + ROUND_TRIP_WARMUP)
    timeout = 60.0 + round_trips * 0.05
    await play_heads_up(
        base_ws,
        http,
        seat_idle(http, 2),
        tally,
        lambda: asyncio.wait_for(tally.done.wait(), timeout),
    )
    return tally


async def play_heads_up(
    base_ws: str,
    http: httpx.Client,
    seats: list[Seat],
    tally: Tally,
    until: Callable[[], Awaitable[object]],
) -> None:
    """Connect both players of a heads-up table as bots acting at once, deal its first hand and
    play until `until()` returns."""
    clients = [Client(base_ws, s, tally, act=True, blinds=BLINDS) for s in seats]
    await open_all(clients)
    tasks = [asyncio.create_task(c.serve()) for c in clients]
    try:
        start_hand(http, seats[0], seats[0].session)  # the welcome's
        await until()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in clients))


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

    def run(self, only: str | None = None) -> WsResults:
        parts = {"rtt", "fanout", "storm", "peer"} if only in (None, "ws") else {only}
        if "rtt" in parts:
            with running(floor_proc("ws-floor")) as floor:
                echo = asyncio.run(echo_round_trips(ws_base(floor), self.plan.round_trips))
            for db in (SQLITE, POSTGRES):
                self.round_trip(db, Summary.of(echo))
            for db in (SQLITE, POSTGRES):
                self.round_trip_busy(db, Summary.of(echo))
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

    # --- 1. action → ack ----------------------------------------------------------------------

    def round_trip(self, db: str, echo: Summary) -> None:
        url = self.dbs.url(db == POSTGRES, "ws_rtt")
        server = server_proc(url, f"ws-rtt-{db}")
        with running(server), httpx.Client(base_url=server.url, timeout=30.0) as http:
            before = sb.read_histogram(http, "rejoin_action_seconds")
            tally = asyncio.run(heads_up(ws_base(server), http, self.plan.round_trips))
            hist = sb.read_histogram(http, "rejoin_action_seconds").minus(before)
        samples = tally.latencies[ROUND_TRIP_WARMUP:]
        mine = Summary.of(samples)
        self.row(
            ServerRow(
                "WS action → ack, heads-up",
                db,
                mine,
                "bare app WS echo",
                echo,
            )
        )
        self.note(
            f"{db} WS action → ack: {mine.count} actions, one at a time (the next player acts once "
            f"its own socket has the events); the server's rejoin_action_seconds for the same "
            f"actions: {hist.describe()} (the host's work: game, store, publish; its mean carries "
            f"the showdown tails). Beyond it: the client, the socket, uvicorn's WebSocket "
            f"protocol, the channel (decode, queue, encode) and the action's events sent before "
            f"the ack, whose floor is {fmt_ms(echo.median_ms)} for one echo through the bare app."
            + (f" Errors: {tally.errors[:3]}" if tally.errors else "")
        )

    def round_trip_busy(self, db: str, echo: Summary) -> None:
        """The heads-up table's action → ack while `busy_tables` tables of bots play on the same
        server: the heads-up players act at once, the bots after their think time."""
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "ws_rtt_busy")
        server = server_proc(url, f"ws-rtt-busy-{db}")
        tally = Tally()
        failed: list[BaseException] = []
        threads: list[threading.Thread] = []

        def beside(begin: float, end: float) -> None:
            # The heads-up clients get a thread and an event loop of their own in this process
            # (the fan-out's bots are in worker processes), connect during the warm-up, and play
            # until the window ends; only actions sent inside it are timed.
            tally.window = (begin, end)

            async def window_end() -> None:
                await asyncio.sleep(max(0.0, end - time.perf_counter()))

            def play() -> None:
                try:
                    with httpx.Client(base_url=server.url, timeout=30.0) as own:
                        seats = seat_idle(own, 2)
                        asyncio.run(play_heads_up(ws_base(server), own, seats, tally, window_end))
                except BaseException as exc:  # reported on the main thread
                    failed.append(exc)

            thread = threading.Thread(target=play, name="heads-up", daemon=True)
            thread.start()
            threads.append(thread)

        floor = commit_floor(url) if db == POSTGRES else None
        with running(server), httpx.Client(base_url=server.url, timeout=30.0) as http:
            tables = [seat_idle(http, 6) for _ in range(plan.busy_tables)]
            measured = run_fanout(
                http,
                ws_base(server),
                tables,
                [server],
                processes=plan.processes,
                warmup_s=plan.busy_warmup_s,
                window_s=plan.busy_window_s,
                think_s=plan.busy_think_s,
                on_window=beside,
            )
            for thread in threads:
                thread.join(60.0)
        if failed:
            raise RuntimeError(f"heads-up beside busy tables on {db} failed") from failed[0]
        if not tally.latencies:
            raise RuntimeError(f"heads-up beside busy tables on {db}: no action acknowledged")
        mine = Summary.of(tally.latencies)
        target = None
        if db == POSTGRES:
            met = mine.median_ms <= BUSY_TARGET_P50_MS and mine.p99_ms <= BUSY_TARGET_P99_MS
            target = Target(
                f"p50 ≤ {BUSY_TARGET_P50_MS:g} ms, p99 ≤ {BUSY_TARGET_P99_MS:g} ms", met
            )
            self.results.goals.append(
                Goal(
                    f"WS action → durable ack beside {plan.busy_tables} busy tables (p50 / p99)",
                    db,
                    f"{fmt_ms(mine.median_ms)} / {fmt_ms(mine.p99_ms)}",
                    target.text,
                    met,
                    f"PostgreSQL's own commit: {fmt_ms(floor.median_ms)} / {fmt_ms(floor.p99_ms)}"
                    if floor is not None
                    else "",
                    mine.median_ms / floor.median_ms if floor and floor.median_ms > 0 else None,
                )
            )
        self.row(
            ServerRow(
                f"  the same beside {plan.busy_tables} busy tables",
                db,
                mine,
                "bare app WS echo",
                echo,
                target,
            )
        )
        window = measured.window_s
        bots = sorted(measured.latencies)
        server_cpu = measured.server_cpu_s[0] / window
        client_cpu = ", ".join(f"{s.cpu_s / window:.0%}" for s in measured.shares)
        self.note(
            f"{db} WS action → ack beside busy tables: {mine.count} heads-up actions over "
            f"{window:g} s, while {plan.busy_tables} tables of 6 bots (acting "
            f"{plan.busy_think_s * 1e3:.0f} ms ±50% after their turn comes, hands dealt back to "
            f"back) played on the same server: {measured.acks / window:,.0f} actions/s and "
            f"{measured.showdowns / window:,.1f} showdowns/s at those tables, "
            f"{measured.events / window:,.0f} event frames delivered/s; their own action → ack "
            f"p50 {fmt_ms(statistics.median(bots) * 1e3) if bots else '?'} "
            f"p99 {fmt_ms(percentile(bots, 99) * 1e3) if bots else '?'}. CPU over the window: "
            f"server {server_cpu:.0%} of a core, bot processes {client_cpu}, the machine "
            f"{measured.machine_busy:.0%} busy."
            + (
                f" PostgreSQL's own durable commit on this machine just before (one small INSERT "
                f"in autocommit, {floor.count} times): p50 {fmt_ms(floor.median_ms)} p99 "
                f"{fmt_ms(floor.p99_ms)}: the floor of a durable ack, below which no p50 can go."
                if floor is not None
                else ""
            )
            + (f" Errors: {tally.errors[:3]}" if tally.errors else "")
            + (f" Bot errors: {measured.errors[:2]}" if measured.errors else "")
        )

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

    # --- 3. reconnect storm -------------------------------------------------------------------

    def storm_floor(self) -> list[float]:
        plan = self.plan
        players = plan.storm_tables * 6
        seats = [Seat("floor", f"p{i}", 0, "t", uuid.uuid4().hex, 0) for i in range(players)]
        proc = floor_proc("ws-storm-floor")
        walls: list[float] = []
        per_client: list[float] = []
        try:
            proc.start_ready()
            for _ in range(plan.storm_repeats):
                run, seats = storm(
                    proc, seats, floor=True, processes=plan.processes, settle_s=plan.settle_s
                )
                walls.append(run.wall_s)
                per_client.extend(run.welcomed)
                self._storm_cpu_note("bare app", "floor", run)
        finally:
            discard(proc)
        self._floor_storm = (Summary.of(walls), Summary.of(per_client))
        return walls

    def storm(self, db: str, floor_walls: list[float]) -> tuple[Summary, Summary]:
        """Kill → every client welcomed, over the plan's storms: that wall time and the per-client
        times (the cluster suite prints its own beside them)."""
        plan = self.plan
        url = self.dbs.url(db == POSTGRES, "ws_storm")
        server = server_proc(url, f"ws-storm-{db}")
        walls: list[float] = []
        per_client: list[float] = []
        listening: list[float] = []
        first: list[float] = []
        attempts: list[int] = []
        server_cpu: list[float] = []
        try:
            server.start_ready()
            tables = sb.seat_players(server, plan.storm_tables, 6)
            seats = seats_of(tables)
            for _ in range(plan.storm_repeats):
                run, seats = storm(
                    server, seats, floor=False, processes=plan.processes, settle_s=plan.settle_s
                )
                walls.append(run.wall_s)
                per_client.extend(run.welcomed)
                first.append(min(run.welcomed))
                attempts.extend(run.attempts)
                server_cpu.append(run.server_cpu_s)
                if run.listening_s is not None:
                    listening.append(run.listening_s)
                self._storm_cpu_note("ours", db, run)
            seats = self._profiled_storm(server, seats, f"storm-{db}")
        finally:
            discard(server)
        floor_wall, floor_each = self._floor_storm
        everyone = Summary.of(walls)
        players = len(seats)
        self.row(
            ServerRow(
                f"WS kill -9 → all {players} welcomed",
                db,
                everyone,
                f"bare app: → {players} WS connected",
                floor_wall,
                Target("≤ 1.0 s", everyone.p99_ms <= 1000),
            )
        )
        self.row(
            ServerRow(
                "  per client: kill → its welcome",
                db,
                Summary.of(per_client),
                "bare app, per client",
                floor_each,
            )
        )
        first_ms = statistics.median(first) * 1e3
        self.results.goals += [
            ratio_goal(
                f"kill -9 → all {players} WS players welcomed (median of {len(walls)})",
                db,
                everyone.median_ms,
                "the bare app",
                floor_wall.median_ms,
                STORM_AT_MOST[db],
            ),
            Goal(
                "kill -9 → the first welcome (median)",
                db,
                fmt_ms(first_ms),
                f"≤ {FIRST_WELCOME_MS:.0f} ms",
                first_ms <= FIRST_WELCOME_MS,
            ),
            Goal(
                f"kill -9 → all {players} welcomed, slowest storm",
                db,
                fmt_ms(everyone.p99_ms),
                "≤ 1.0 s (the README's promise)",
                everyone.p99_ms <= 1000,
            ),
        ]
        self.note(
            f"{db} WS storm ({plan.storm_repeats} storms, {players} players at {plan.storm_tables} "
            f"tables mid-hand, clients in {plan.processes} processes): kill → 'listening' "
            f"printed {fmt_ms(statistics.median(listening) * 1e3) if listening else '?'} "
            f"(median), → all welcomed {fmt_ms(everyone.median_ms)}; the relaunched server had "
            f"used {statistics.median(server_cpu):.2f} s CPU by then (imports, start-up, first "
            f"touch of every game, every handshake and welcome); attempts per client median "
            f"{statistics.median(attempts):g}, max {max(attempts)}. Our server binds its port "
            "before its imports, so dials wait in the listen queue; the bare app binds once "
            "started, so its clients are refused and back off until then (a floor of about "
            "0.6 s on a 2-core machine: the cost of binding the port late)."
        )
        return everyone, Summary.of(per_client)

    def _profiled_storm(self, server: ServerProcess, seats: list[Seat], name: str) -> list[Seat]:
        """One more storm, untimed, with py-spy recording the relaunched server: its flame graph
        in the output folder and its busiest functions in the notes."""
        why_not = self.profiler.unavailable()
        if self.profiler.out is None:
            return seats  # profiling off (--no-profile, or a suite that does not profile)
        if why_not is not None:
            self.note(f"{name}: no profile ({why_not}).")
            return seats
        run, seats = storm(
            server,
            seats,
            floor=False,
            processes=self.plan.processes,
            settle_s=self.plan.settle_s,
            profile=(self.profiler, name),
        )
        if run.profile is None:
            self.note(f"{name}: py-spy could not profile the relaunched server.")
            return seats
        total, top = top_functions(run.profile)
        busiest = "; ".join(f"{share:.0%} {function}" for function, share in top)
        self.note(
            f"Profile of one more storm ({name}, untimed, all {len(run.welcomed)} welcomed "
            f"{fmt_ms(run.wall_s * 1e3)}, {total} samples of every thread from the relaunch to "
            f"the last welcome; flame graph {run.profile.with_suffix('.svg')}): busiest functions, "
            f"inclusive: "
            f"{busiest}."
        )
        return seats

    def _storm_cpu_note(self, who: str, db: str, run: StormRun) -> None:
        cpu = ", ".join(
            f"{c:.2f} s CPU over {b:.2f} s"
            for c, b in zip(run.client_cpu, run.client_busy, strict=True)
        )
        share = [c / b for c, b in zip(run.client_cpu, run.client_busy, strict=True) if b > 0]
        self.console.print(
            f"  storm {who} {db}: from the kill, relaunched {fmt_ms(run.spawned_s * 1e3)}, "
            f"first welcome {fmt_ms(min(run.welcomed) * 1e3)}, "
            f"all {len(run.welcomed)} welcomed {fmt_ms(run.wall_s * 1e3)} "
            f"(attempts per client max {max(run.attempts)}); relaunched server used "
            f"{run.server_cpu_s:.2f} s CPU; clients {cpu}"
            + (
                " (a client process was busy >80%: client-bound)"
                if any(s > 0.8 for s in share)
                else ""
            ),
            highlight=False,
        )
        if any(s > 0.8 for s in share):
            self.note(
                f"{who} {db} storm: a client process used {max(share):.0%} of a core from the "
                "first drop to its last welcome: the clients, not only the server, set the pace."
            )

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
