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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from bench.profiler import Profiler, ProfileRun
from bench.ws_clients import Seat, StormShare, storm_process
from rejoin_testkit.processes import ServerProcess

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
