"""The WebSocket reconnect storm and the worker processes the big WS runs use.

`storm`: players connected over WebSocket (`ws_clients.Client`, in `processes` worker processes),
the server SIGKILLed and relaunched at once on the same port; every client notices its socket
drop, dials again within 100 ms and then backs off (50 ms, times 1.5 per try, at most 250 ms, jittered) until
its `hello` (newest token, last seq) is answered with `welcome`. Timed from the kill: per client
until its welcome, and until the last one. The floor is the same storm against the bare app's
echo WebSocket (`server_floor.py`): kill → relaunch → every client connected and its first frame
echoed.

Worker processes are forked (Linux): the clients of a 1,000-player storm are too much CPU for one
Python process beside a server on a 2-core machine. Each reports its CPU time over the storm, and
the server's CPU time since its relaunch is read from /proc, so the printout can say which side
was the bottleneck.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import server_bench as sb
from bench.databases import POSTGRES, SQLITE
from bench.goals import Goal, ratio_goal
from bench.profiler import Profiler, ProfileRun, top_functions
from bench.report import Target
from bench.server_procs import discard, floor_proc, server_proc
from bench.server_suite import ServerRow
from bench.stats import Summary, fmt_ms
from bench.ws_clients import Seat, StormShare, seats_of, storm_process
from rejoin_testkit.processes import ServerProcess

if TYPE_CHECKING:
    from bench.ws_suite import WsSuite

WORKER_TIMEOUT_S = 180.0


def ws_base(proc: ServerProcess) -> str:
    return f"ws://127.0.0.1:{proc.port}"


def context() -> Any:
    return mp.get_context("fork")


def shards(items: Sequence[Any], count: int) -> list[list[Any]]:
    """`items` in `count` contiguous parts of near-equal size (empty parts dropped)."""
    size = -(-len(items) // max(1, count))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def collect(out: Queue[Any], procs: Sequence[BaseProcess], phase: str) -> dict[int, Any]:
    """Wait for every worker's `phase` message; a failed or dead worker ends the benchmark."""
    got: dict[int, Any] = {}
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while len(got) < len(procs):
        try:
            kind, index, payload = out.get(timeout=1.0)
        except queue.Empty:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"WS workers: no '{phase}' within {WORKER_TIMEOUT_S:g} s"
                ) from None
            dead = [p for i, p in enumerate(procs) if i not in got and not p.is_alive()]
            if dead:
                raise RuntimeError(f"a WS worker died (exit {dead[0].exitcode})") from None
            continue
        if kind == "failed":
            raise RuntimeError(f"WS worker {index} failed: {payload}")
        if kind == phase:
            got[index] = payload
    return got


def stop(procs: Sequence[BaseProcess]) -> None:
    for proc in procs:
        proc.join(timeout=10.0)
        if proc.is_alive():
            proc.kill()
            proc.join()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a live process, from /proc."""
    assert pid is not None, "the process was never started"
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class StormRun:
    welcomed: list[float]  # per client, seconds from the kill
    wall_s: float  # the kill → the last welcome
    attempts: list[int]
    missed: list[int]
    client_cpu: list[float]  # per worker process, CPU seconds over its storm
    client_busy: list[float]  # per worker process, wall seconds of the same span
    server_cpu_s: float  # the relaunched server's CPU time when the last client was welcomed
    listening_s: float | None  # the server printed "listening" (ours only)
    spawned_s: float  # the killed process reaped and the new one's Popen returned
    profile: Path | None = None  # the relaunched server's sampled stacks, when profiled


def storm(
    proc: ServerProcess,
    seats: list[Seat],
    *,
    floor: bool,
    processes: int,
    settle_s: float,
    profile: tuple[Profiler, str] | None = None,
) -> tuple[StormRun, list[Seat]]:
    """One kill -9 → relaunch → every client welcomed again; the seats with their new tokens.
    `profile`: py-spy records the relaunched server from its spawn to the last welcome, as the
    flame graph of that name."""
    ctx = context()
    out: Queue[Any] = ctx.Queue()
    parts = shards(seats, processes)
    procs = [
        ctx.Process(target=storm_process, args=(i, ws_base(proc), part, floor, out), daemon=True)
        for i, part in enumerate(parts)
    ]
    for worker in procs:
        worker.start()
    recording: ProfileRun | None = None
    try:
        collect(out, procs, "ready")
        time.sleep(settle_s)
        t0 = time.perf_counter()
        proc.kill9()
        spawned = proc.start().started_at
        if profile is not None:
            profiler, name = profile
            recording = profiler.attach(proc.pid, name)
        done: dict[int, StormShare] = collect(out, procs, "done")
        server_cpu = cpu_seconds(proc.pid)
    finally:
        flame = recording.stop() if recording is not None else None
        stop(procs)
    shares = [done[i] for i in range(len(parts))]
    welcomed = [w - t0 for s in shares for w in s.welcomed]
    listening = proc.line_at("listening on")
    run = StormRun(
        welcomed,
        max(welcomed),
        [a for s in shares for a in s.attempts],
        [m for s in shares for m in s.missed],
        [s.cpu_s for s in shares],
        [s.busy_s for s in shares],
        server_cpu,
        None if listening is None else listening - t0,
        spawned - t0,
        flame,
    )
    return run, [seat for s in shares for seat in s.seats]


# Issue 16's goals for one node: ours / the bare app's storm (SQLite, PostgreSQL), and the time
# from the kill to the first welcome.
STORM_AT_MOST = {SQLITE: 1.25, POSTGRES: 1.4}
FIRST_WELCOME_MS = 400.0


class StormFigures:
    """The WebSocket suite's reconnect storms (`WsSuite.storm_floor`, `WsSuite.storm`): the bare
    app's floor, ours on each database with its goals, and one more storm profiled."""

    def __init__(self, suite: WsSuite) -> None:
        self.suite = suite
        self._floor_storm: tuple[Summary, Summary] | None = None

    def floor(self) -> list[float]:
        plan = self.suite.plan
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

    def run(self, db: str, floor_walls: list[float]) -> tuple[Summary, Summary]:
        """Kill → every client welcomed, over the plan's storms: that wall time and the per-client
        times (the cluster suite prints its own beside them)."""
        plan = self.suite.plan
        url = self.suite.dbs.url(db == POSTGRES, "ws_storm")
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
        assert self._floor_storm is not None, "the floor's storms run first"
        floor_wall, floor_each = self._floor_storm
        everyone = Summary.of(walls)
        players = len(seats)
        self.suite.row(
            ServerRow(
                f"WS kill -9 → all {players} welcomed",
                db,
                everyone,
                f"bare app: → {players} WS connected",
                floor_wall,
                Target("≤ 1.0 s", everyone.p99_ms <= 1000),
            )
        )
        self.suite.row(
            ServerRow(
                "  per client: kill → its welcome",
                db,
                Summary.of(per_client),
                "bare app, per client",
                floor_each,
            )
        )
        first_ms = statistics.median(first) * 1e3
        self.suite.results.goals += [
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
        self.suite.note(
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
        if self.suite.profiler.out is None:
            return seats  # profiling off (--no-profile, or a suite that does not profile)
        why_not = self.suite.profiler.unavailable()
        if why_not is not None:
            self.suite.note(f"{name}: no profile ({why_not}).")
            return seats
        run, seats = storm(
            server,
            seats,
            floor=False,
            processes=self.suite.plan.processes,
            settle_s=self.suite.plan.settle_s,
            profile=(self.suite.profiler, name),
        )
        if run.profile is None:
            self.suite.note(f"{name}: py-spy could not profile the relaunched server.")
            return seats
        total, top = top_functions(run.profile)
        busiest = "; ".join(f"{share:.0%} {function}" for function, share in top)
        self.suite.note(
            f"Profile of one more storm ({name}, untimed, all {len(run.welcomed)} welcomed "
            f"{fmt_ms(run.wall_s * 1e3)}, {total} samples of the thread holding the interpreter "
            f"lock, from the relaunch to the last welcome; flame graph "
            f"{run.profile.with_suffix('.svg')}): busiest functions, inclusive: {busiest}."
        )
        return seats

    def _storm_cpu_note(self, who: str, db: str, run: StormRun) -> None:
        cpu = ", ".join(
            f"{c:.2f} s CPU over {b:.2f} s"
            for c, b in zip(run.client_cpu, run.client_busy, strict=True)
        )
        share = [c / b for c, b in zip(run.client_cpu, run.client_busy, strict=True) if b > 0]
        self.suite.console.print(
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
            self.suite.note(
                f"{who} {db} storm: a client process used {max(share):.0%} of a core from the "
                "first drop to its last welcome: the clients, not only the server, set the pace."
            )
