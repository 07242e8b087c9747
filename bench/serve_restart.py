"""The README's serve command restarted: `python3 -m nox -s serve -- --port P --database-url …`
killed with SIGKILL (its whole process group: nox and the rejoin-server it runs) and started again,
beside the same `rejoin-server` (the one nox installed) started directly, in the same run.

Each relaunch is timed from just before the process is spawned to `GET /healthz` answering 200,
and to a player of a game created before the first kill being welcomed back over the WebSocket
(`hello` with its newest token, dialled every `DIAL_EVERY_S` until welcomed). The first start of
the nox command installs its environment (and builds the browser bundle if it is missing): it is
not timed. Nothing changes between the restarts, so each one is what a developer pays for
`nox -s serve` after a crash; the direct rows are what the same server costs without nox, and the
ratio is nox's share. `--only serve` runs this alone (SQLite in a temporary folder; needs a
`python3` on PATH that has nox, as the README's command does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.goals import Goal
from bench.report import columns_table
from bench.stats import Summary, fmt_ms, fmt_ratio, ratio
from bench.ws_clients import Client, Tally, seats_of
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench-admin-token"  # a throwaway server's operator token
FIRST_START_TIMEOUT_S = 900.0  # the first `nox -s serve` installs its environment
RESTART_TIMEOUT_S = 60.0
DIAL_EVERY_S = 0.01
POLL_EVERY_S = 0.01
GOAL_S = 2.0  # issue 17: the README's serve command restarts in under 2 s when nothing changed
RUNS, QUICK_RUNS = 9, 3
NOX = "nox -s serve"
DIRECT = "rejoin-server"


@dataclass(slots=True)
class Relaunch:
    healthy: list[float] = field(default_factory=list)  # seconds: relaunch → /healthz 200
    welcomed: list[float] = field(default_factory=list)  # seconds: relaunch → welcome


@dataclass(slots=True)
class ServeResults:
    relaunches: dict[str, Relaunch] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def python_with_nox() -> str | None:
    """The first `python3` on PATH that imports nox (inside `nox -s bench` the session's own
    python3 comes first, without it), else None."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = shutil.which("python3", path=folder)
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import nox"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return candidate
    return None


def run(console: Console, *, quick: bool) -> ServeResults:
    results = ServeResults()
    python3 = python_with_nox()
    if python3 is None:
        results.notes.append(
            "README serve restart: not measured, no python3 on PATH has nox "
            "(python3 -m pip install nox)"
        )
        console.print(results.notes[-1], highlight=False)
        return results
    runs = QUICK_RUNS if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="rejoin_bench_serve_") as tmp:
        folder = Path(tmp)
        database = f"sqlite:///{folder / 'serve.db'}"
        nox = ServerProcess(
            folder / "nox-serve.log",
            command=[python3, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "serve", "--"],
            database_url=database,
            admin_token=ADMIN_TOKEN,
            ready_timeout=FIRST_START_TIMEOUT_S,
        )
        try:
            console.print(f"{NOX}: first start (installs its environment the first time)")
            nox.start_ready()
            client = seated_client(nox)
            nox.ready_timeout = RESTART_TIMEOUT_S
            results.relaunches[NOX] = relaunch(nox, client, runs, console, NOX)
        finally:
            nox.cleanup()
        installed = ROOT / ".nox" / "serve" / "bin" / "rejoin-server"
        direct = ServerProcess(
            folder / "direct.log",
            command=[str(installed)],
            database_url=database,
            admin_token=ADMIN_TOKEN,
            port=nox.port,
            ready_timeout=RESTART_TIMEOUT_S,
        )
        try:
            direct.start_ready()
            results.relaunches[DIRECT] = relaunch(direct, client, runs, console, DIRECT)
        finally:
            direct.cleanup()
    mine, theirs = results.relaunches[NOX].welcomed, results.relaunches[DIRECT].welcomed
    ours_s, direct_s = Summary.of(mine), Summary.of(theirs)
    results.goals.append(
        Goal(
            f"README serve restart < {GOAL_S:g} s (kill -9 → welcomed back, p99)",
            "SQLite",
            fmt_ms(ours_s.p99_ms),
            f"< {GOAL_S * 1000:,.0f} ms",
            ours_s.p99_ms < GOAL_S * 1000,
            f"{DIRECT} direct: {fmt_ms(direct_s.p99_ms)}",
            ratio(ours_s.p99_ms, direct_s.p99_ms),
        )
    )
    results.notes.append(
        f"README serve restart: {runs} relaunches each, nox's process group and then the server "
        f"alone killed with SIGKILL; a WebSocket player of a game created before the first kill "
        f"dials every {DIAL_EVERY_S * 1e3:g} ms. nox's own start (reading the noxfile, finding "
        "its environment up to date, checking the bundle) is the difference between the rows; "
        f"it ran under {python3} (a pyenv shim, say, adds its own start to nox's)."
    )
    return results


def seated_client(server: ServerProcess) -> Client:
    """A player seated at a new heads-up table on `server`, as a WebSocket client."""
    api = Api(server.url, ADMIN_TOKEN)
    try:
        table = Table.create(api, seats=2, actionTimeoutMs=600_000, autoNextHand=False)
        table.join_many(2)
        (seat, _other) = seats_of([table])
    finally:
        api.close()
    return Client(server.url.replace("http://", "ws://"), seat, Tally())


def relaunch(
    server: ServerProcess, client: Client, runs: int, console: Console, name: str
) -> Relaunch:
    times = Relaunch()
    asyncio.run(welcomed(client))  # the player holds a fresh token before the first kill
    for _ in range(runs):
        server.kill9()
        began = time.perf_counter()
        server.start()
        healthy, welcome = asyncio.run(timed(server, client, began))
        times.healthy.append(healthy)
        times.welcomed.append(welcome)
    health, back = Summary.of(times.healthy), Summary.of(times.welcomed)
    console.print(
        f"{name} relaunch → /healthz 200 p50 {fmt_ms(health.median_ms)} p99 "
        f"{fmt_ms(health.p99_ms)}; → welcomed back p50 {fmt_ms(back.median_ms)} p99 "
        f"{fmt_ms(back.p99_ms)}",
        highlight=False,
    )
    return times


async def timed(server: ServerProcess, client: Client, began: float) -> tuple[float, float]:
    """Seconds from `began` to /healthz 200, and to the player's welcome, probed side by side."""
    healthy, welcome = await asyncio.wait_for(
        asyncio.gather(healthz(server, began), welcomed(client, began)), RESTART_TIMEOUT_S
    )
    return healthy, welcome


async def healthz(server: ServerProcess, began: float) -> float:
    async with httpx.AsyncClient(timeout=1.0) as http:
        while True:
            try:
                reply = await http.get(f"{server.url}/healthz")
            except httpx.TransportError:
                reply = None
            if reply is not None and reply.status_code == 200:
                return time.perf_counter() - began
            if not server.running:
                raise RuntimeError(f"the server exited\n{server.log_tail()}")
            await asyncio.sleep(POLL_EVERY_S)


async def welcomed(client: Client, began: float | None = None) -> float:
    """Dial until welcomed, then hang up; seconds from `began` to the welcome. A refusal that no
    retry can help (`Refused`) ends the benchmark."""
    while True:
        try:
            at = await client.open()
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            await asyncio.sleep(DIAL_EVERY_S)  # not listening yet, or the app not built yet
            continue
        assert client.ws is not None
        await client.ws.close()
        return at - (began if began is not None else at)


def render(results: ServeResults, console: Console) -> None:
    if not results.relaunches:
        return
    table = columns_table(
        "README serve command restarted (kill -9 of nox + server, same SQLite file)",
        (
            ("started as", "left"),
            ("→ /healthz 200 p50", "right"),
            ("p99", "right"),
            ("→ welcomed back p50", "right"),
            ("p99", "right"),
            ("/ direct p50", "right"),
        ),
    )
    direct = Summary.of(results.relaunches[DIRECT].welcomed)
    for name, times in results.relaunches.items():
        health, back = Summary.of(times.healthy), Summary.of(times.welcomed)
        table.add_row(
            name,
            fmt_ms(health.median_ms),
            fmt_ms(health.p99_ms),
            fmt_ms(back.median_ms),
            fmt_ms(back.p99_ms),
            fmt_ratio(ratio(back.median_ms, direct.median_ms)),
        )
    console.print(table)
    for note in results.notes:
        console.print(f"- {note}", highlight=False)
