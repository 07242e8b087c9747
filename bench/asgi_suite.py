"""The ASGI server's share of a WebSocket (issue 16): uvicorn's three WebSocket implementations
and Granian, each serving the bare app (`server_floor.py`) and ours (`asgi_ours.py`), in one run.

For each server, the same figures on both apps:

- **connect at once**: N clients (167 tables of 6: 1,002, in worker processes as in the storm) are
  created idle, then all dial at the same moment; each sends its first frame (ours: `hello` with
  its newest token and last seq; the bare app: the same frame, echoed) and is timed until the
  answer (ours: `welcome`). The server's CPU time over that span (from /proc, its worker process
  included for Granian) divided by N is its **CPU per handshake**: the upgrade, the framing and,
  for ours, the app's hello → welcome. Wall times are printed too, but two client processes on a
  2-core machine set much of their pace; the CPU per handshake is the figure to compare.
- **round trip**: the bare app's echo of an action-sized frame, one at a time (with the server's
  CPU per echo), and ours' action → ack at a heads-up table (`ws_rtt.heads_up`).

Servers are started together and measured in turns, the order rotating every round, so a noisy
neighbour weighs on all of them alike. Ours runs on SQLite: the database is not what is compared.
Under Granian ours has none of `serve.run_uvicorn`'s additions (connection cap, request deadlines,
the handover before sockets close); they cost nothing on this workload.

`python bench/run.py --only asgi [--quick]` runs this part alone.

Measured on the 2-core VM, three runs of `--only asgi` (one `--quick`) while other benchmarks
shared the machine (load average up to 20, so wall times and p99 are noise; the CPU figures and
their ratios held). CPU per handshake against uvicorn websockets-sansio in the same run:

    server                       bare app            ours (hello → welcome)   CPU per echo
    uvicorn websockets-sansio    329-389 µs (1x)     1.03-1.23 ms (1x)        59-94 µs
    uvicorn websockets (legacy)  1.38-1.46x          1.20-1.23x               59-69 µs
    uvicorn wsproto              0.95-0.97x          0.88-1.19x               78-94 µs
    Granian 2.8                  0.62-1.03x          0.83-0.86x               98-188 µs

Echo round trip p50 against websockets-sansio (80-150 µs): legacy 0.57-1.07x, wsproto
0.78-1.29x, Granian 1.34-1.51x. Ours' action → ack p50 was within noise of each other.

The decision: uvicorn with `websockets-sansio` stays (`serve.WS_PROTOCOL`). The legacy
`websockets` implementation costs 1.4x per handshake and uvicorn deprecates it. wsproto is the
same cost within noise per handshake and dearer per frame (1.2-1.3x CPU per echo); its library
moves slowly, while `websockets` (already the server's and the clients' dependency) is actively
kept and is what uvicorn's "auto" picks. Granian saves about 15% of ours' CPU per hello (its HTTP
parsing and upgrade run in Rust) but spends 1.6-2x the CPU per frame (its Rust I/O thread and the
Python loop both work for every frame: fan-out pays it for every event), does not apply our frame
limit (a 200 KB frame reached the app, which refused it with 4400, where uvicorn closes with 1009
before reading it) and would drop what `serve.run_uvicorn` adds through uvicorn's protocol classes
(the connection cap and request deadlines of `connections.BoundedH11Protocol`, the handover before
the sockets close). Not clearly faster, and not as well fitted: measured again when either moves.
All four carry the `websocket.http.response` extension (the 429 before the upgrade in `api/ws.py`)
and pass our 44xx close codes through.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench import server_bench as sb
from bench.databases import Databases
from bench.report import columns_table
from bench.server_procs import (
    ADMIN_TOKEN,
    BENCH_LIMITS,
    FLOOR_SCRIPT,
    READY_TIMEOUT_S,
    ServerDatabases,
    discard,
    server_databases,
    stderr_file,
)
from bench.stats import Summary, fmt_ms, fmt_ratio, percentile, ratio
from bench.ws_clients import Client, Seat, Tally, echo_round_trips, seats_of
from bench.ws_rtt import ROUND_TRIP_WARMUP, heads_up
from bench.ws_storm import collect, context, cpu_seconds, shards, stop, ws_base
from rejoin_testkit.processes import ServerProcess

OURS_SCRIPT = Path(__file__).resolve().with_name("asgi_ours.py")
ECHO_WARMUP = 20  # `echo_round_trips`' untimed echoes, counted in its CPU


@dataclass(frozen=True, slots=True)
class Impl:
    """One ASGI server set-up: the flags `server_floor.py` and `asgi_ours.py` take for it and the
    module it needs."""

    label: str
    flags: tuple[str, ...]
    needs: str


IMPLS = (
    Impl("uvicorn websockets-sansio", ("--ws", "websockets-sansio"), "websockets"),
    Impl("uvicorn websockets (legacy)", ("--ws", "websockets"), "websockets"),
    Impl("uvicorn wsproto", ("--ws", "wsproto"), "wsproto"),
    Impl("Granian", ("--granian",), "granian"),
)
BASELINE = IMPLS[0]  # the server's own (`serve.WS_PROTOCOL`): every ratio is against it
APPS = ("bare", "ours")


@dataclass(frozen=True, slots=True)
class AsgiPlan:
    tables: int  # of 6 players: the clients that dial at once
    rounds: int
    echoes: int  # bare-app echoes per server per round
    actions: int  # ours' actions per server per round
    processes: int = 2  # client worker processes
    settle_s: float = 0.5


FULL_ASGI = AsgiPlan(tables=167, rounds=3, echoes=1000, actions=200)
QUICK_ASGI = AsgiPlan(tables=167, rounds=1, echoes=300, actions=60, settle_s=0.3)


@dataclass(slots=True)
class Measured:
    """What one server on one app gave over the rounds."""

    walls: list[float] = field(default_factory=list)  # go → the last answered, per round
    per_client: list[float] = field(default_factory=list)  # go → its answer
    cpu_per_handshake: list[float] = field(default_factory=list)  # seconds, per round
    client_share: list[float] = field(default_factory=list)  # busiest client process, per round
    round_trips: list[float] = field(default_factory=list)
    cpu_per_round_trip: list[float] = field(default_factory=list)  # bare app only, per round
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AsgiResults:
    plan: AsgiPlan
    clients: int = 0
    measured: dict[tuple[str, str], Measured] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


# --- the server's CPU ---------------------------------------------------------------------------


def tree_cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a live process and its live descendants (Granian serves from a
    worker process it forks), from /proc."""
    assert pid is not None, "the process was never started"
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        parents.setdefault(ppid, []).append(int(entry))
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo.extend(parents.get(current, ()))
    return total


# --- connect at once: the worker processes ------------------------------------------------------


@dataclass(slots=True)
class ConnectShare:
    """What one worker reports: per client, the perf_counter of its answer (comparable across
    processes on Linux); its own CPU time over the span; the seats with their newest tokens."""

    answered: list[float]
    cpu_s: float
    seats: list[Seat]


def connect_process(
    index: int,
    base_ws: str,
    seats: list[Seat],
    floor: bool,
    out: Queue[Any],
    go: MpEvent,
    release: MpEvent,
) -> None:
    """Make the clients of `seats`, say ready, dial them all at `go`, report, close at
    `release`."""
    try:
        asyncio.run(_connect(index, base_ws, seats, floor, out, go, release))
    except BaseException as exc:
        out.put(("failed", index, repr(exc)))
        raise


async def _connect(
    index: int,
    base_ws: str,
    seats: list[Seat],
    floor: bool,
    out: Queue[Any],
    go: MpEvent,
    release: MpEvent,
) -> None:
    tally = Tally()
    clients = [Client(base_ws, s, tally, floor=floor) for s in seats]
    out.put(("ready", index, None))
    await asyncio.to_thread(go.wait)
    cpu0 = time.process_time()
    answered = await asyncio.gather(*(c.open() for c in clients))
    cpu = time.process_time() - cpu0
    out.put(("done", index, ConnectShare(list(answered), cpu, [c.seat for c in clients])))
    await asyncio.to_thread(release.wait)
    await asyncio.gather(*(c.close() for c in clients))
    out.put(("closed", index, None))


@dataclass(frozen=True, slots=True)
class ConnectRun:
    answered: list[float]  # per client, seconds from go
    server_cpu_s: float
    client_share: float  # the busiest client process's CPU over the span, of a core


def connect_at_once(
    proc: ServerProcess, seats: list[Seat], *, floor: bool, plan: AsgiPlan
) -> tuple[ConnectRun, list[Seat]]:
    """Every seat dials `proc` at the same moment and is answered; then all are dropped."""
    ctx = context()
    out: Queue[Any] = ctx.Queue()
    go, release = ctx.Event(), ctx.Event()
    parts = shards(seats, plan.processes)
    procs = [
        ctx.Process(
            target=connect_process,
            args=(i, ws_base(proc), part, floor, out, go, release),
            daemon=True,
        )
        for i, part in enumerate(parts)
    ]
    for worker in procs:
        worker.start()
    try:
        collect(out, procs, "ready")
        time.sleep(plan.settle_s)  # the workers' start-up done; the server idle
        cpu0 = tree_cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        go.set()
        done: dict[int, ConnectShare] = collect(out, procs, "done")
        cpu = tree_cpu_seconds(proc.pid) - cpu0
        release.set()
        collect(out, procs, "closed")
    finally:
        release.set()
        stop(procs)
    time.sleep(plan.settle_s)  # the server has seen every close before the next measurement
    shares = [done[i] for i in range(len(parts))]
    answered = [a - t0 for s in shares for a in s.answered]
    wall = max(answered)
    run = ConnectRun(answered, cpu, max(s.cpu_s for s in shares) / wall)
    return run, [seat for s in shares for seat in s.seats]


# --- the suite ----------------------------------------------------------------------------------


def available() -> tuple[list[Impl], list[str]]:
    """The servers this environment has (requirements/bench.txt pins wsproto and granian)."""
    have = [i for i in IMPLS if importlib.util.find_spec(i.needs) is not None]
    missing = [f"{i.label} (no `{i.needs}` installed)" for i in IMPLS if i not in have]
    return have, missing


def _slug(impl: Impl) -> str:
    return "-".join(f.strip("-") for f in impl.flags)


class AsgiSuite:
    def __init__(self, plan: AsgiPlan, dbs: ServerDatabases, console: Console) -> None:
        self.plan = plan
        self.dbs = dbs
        self.console = console
        impls, skipped = available()
        self.impls = impls
        self.results = AsgiResults(plan, skipped=skipped)

    def run(self) -> AsgiResults:
        players = self.plan.tables * 6
        self.results.clients = players
        floors = {
            impl: ServerProcess(
                stderr_file(f"asgi-floor-{_slug(impl)}"),
                command=[sys.executable, str(FLOOR_SCRIPT), *impl.flags],
                stamp_stdout=True,
                ready_timeout=READY_TIMEOUT_S,
            )
            for impl in self.impls
        }
        seats = [Seat("floor", f"p{i}", 0, "t", uuid.uuid4().hex, 0) for i in range(players)]
        self._rounds(floors, dict.fromkeys(self.impls, seats), "bare")
        ours = {
            impl: ServerProcess(
                stderr_file(f"asgi-ours-{_slug(impl)}"),
                command=[sys.executable, str(OURS_SCRIPT), *impl.flags],
                database_url=self.dbs.url(False, f"asgi-{_slug(impl)}"),
                admin_token=ADMIN_TOKEN,
                args=("--durability", "strict", "--log-level", "warning", *BENCH_LIMITS),
                stamp_stdout=True,
                ready_timeout=READY_TIMEOUT_S,
            )
            for impl in self.impls
        }
        self._rounds(ours, {}, "ours")
        return self.results

    def _rounds(
        self, procs: dict[Impl, ServerProcess], seats: dict[Impl, list[Seat]], app: str
    ) -> None:
        try:
            for impl, proc in procs.items():
                proc.start_ready()
                if app == "ours":
                    seats[impl] = seats_of(sb.seat_players(proc, self.plan.tables, 6))
            for index in range(self.plan.rounds):
                shift = index % len(self.impls)
                for impl in self.impls[shift:] + self.impls[:shift]:
                    seats[impl] = self._round(impl, procs[impl], seats[impl], app)
        finally:
            for proc in procs.values():
                discard(proc)

    def _round(self, impl: Impl, proc: ServerProcess, seats: list[Seat], app: str) -> list[Seat]:
        """A round trip run first (it warms the server's paths up), then the connect."""
        got = self.results.measured.setdefault((impl.label, app), Measured())
        if app == "bare":
            cpu0 = tree_cpu_seconds(proc.pid)
            samples = asyncio.run(echo_round_trips(ws_base(proc), self.plan.echoes, ECHO_WARMUP))
            cpu = tree_cpu_seconds(proc.pid) - cpu0
            latest = samples
            got.cpu_per_round_trip.append(cpu / (self.plan.echoes + ECHO_WARMUP))
        else:
            with httpx.Client(base_url=proc.url, timeout=30.0) as http:
                tally = asyncio.run(heads_up(ws_base(proc), http, self.plan.actions))
            latest = tally.latencies[ROUND_TRIP_WARMUP:]
            got.errors.extend(tally.errors)
        got.round_trips.extend(latest)
        run, seats = connect_at_once(proc, seats, floor=app == "bare", plan=self.plan)
        got.walls.append(max(run.answered))
        got.per_client.extend(run.answered)
        got.cpu_per_handshake.append(run.server_cpu_s / len(run.answered))
        got.client_share.append(run.client_share)
        trip = Summary.of(latest)
        self.console.print(
            f"  asgi {impl.label} · {app}: {len(run.answered)} dialled at once, all answered in "
            f"{fmt_ms(max(run.answered) * 1e3)} (busiest client process "
            f"{run.client_share:.0%} of a core); server CPU {run.server_cpu_s:.2f} s = "
            f"{fmt_ms(run.server_cpu_s / len(run.answered) * 1e3)} per handshake; "
            f"{'echo' if app == 'bare' else 'action → ack'} p50 {fmt_ms(trip.median_ms)} "
            f"p99 {fmt_ms(trip.p99_ms)}",
            highlight=False,
        )
        return seats


def run(dbs: Databases, console: Console, *, quick: bool) -> AsgiResults:
    plan = QUICK_ASGI if quick else FULL_ASGI
    with server_databases(dbs) as made:
        return AsgiSuite(plan, made, console).run()


# --- printing -----------------------------------------------------------------------------------


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def render(results: AsgiResults, console: Console) -> None:
    plan = results.plan
    table = columns_table(
        f"ASGI servers: {results.clients} WebSocket clients dialling at once, then round trips "
        f"({plan.rounds} rounds; ratios against {BASELINE.label}, the server's own)",
        (
            ("server", "left"),
            ("app", "left"),
            ("CPU / handshake", "right"),
            ("ratio", "right"),
            ("all answered", "right"),
            ("per client p50", "right"),
            ("p99", "right"),
            ("round trip p50", "right"),
            ("p99", "right"),
            ("ratio p50", "right"),
            ("CPU / echo", "right"),
        ),
    )
    for app in APPS:
        base = results.measured.get((BASELINE.label, app))
        for impl in IMPLS:
            got = results.measured.get((impl.label, app))
            if got is None or not got.walls:
                continue
            cpu = _median_ms(got.cpu_per_handshake)
            trip = Summary.of(got.round_trips)
            each = sorted(got.per_client)
            table.add_row(
                impl.label,
                app,
                fmt_ms(cpu),
                fmt_ratio(ratio(cpu, _median_ms(base.cpu_per_handshake))) if base else "",
                fmt_ms(_median_ms(got.walls)),
                fmt_ms(statistics.median(each) * 1e3),
                fmt_ms(percentile(each, 99) * 1e3),
                fmt_ms(trip.median_ms),
                fmt_ms(trip.p99_ms),
                fmt_ratio(ratio(trip.median_ms, Summary.of(base.round_trips).median_ms))
                if base
                else "",
                fmt_ms(_median_ms(got.cpu_per_round_trip)) if got.cpu_per_round_trip else "",
            )
    console.print(table)
    console.print("ASGI notes:", highlight=False)
    notes = [
        "CPU / handshake: the server process's CPU time (Granian: with its worker process) from "
        "the moment every client dials until the last is answered, over the clients (median of "
        "the rounds): the upgrade, the first frame each way and, for ours, hello → welcome. "
        "CPU / echo: the same over the bare app's sequential echoes.",
        "Wall times are set partly by the two client processes (the busiest's share of a core "
        "per run is printed above); compare the CPU per handshake.",
        "Ours under Granian lacks `serve.run_uvicorn`'s connection cap, request deadlines and "
        "shutdown handover (`bench/asgi_ours.py`).",
    ]
    for impl_label, app in results.measured:
        got = results.measured[(impl_label, app)]
        if got.errors:
            notes.append(f"{impl_label} · {app}: {len(got.errors)} errors, e.g. {got.errors[:2]}")
    notes.extend(f"Not measured: {what}." for what in results.skipped)
    for note in notes:
        console.print(f"- {note}", highlight=False)
