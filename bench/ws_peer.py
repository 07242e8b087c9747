"""Transient disconnect, ours against Socket.IO 4 with connection state recovery, in the same run.

The same workload on both, driven by one Node script (`peers/socketio/clients.js`) so that the
clients are the same language and runtime on both sides: `ws` for ours, `socket.io-client` for
theirs (both pinned in `peers/socketio/package-lock.json`).

1. N clients connect (ours: players of N/6 tables stopped mid-hand, `hello` → `welcome`; theirs:
   N sockets on the WebSocket transport).
2. The cut: every client terminate()s its underlying WebSocket at once (the TCP connection is
   closed with no WebSocket close frame): a transport close on both servers, which Socket.IO
   treats as recoverable and ours as a lost link.
3. While they are away, events happen: ours, A actions per table over HTTP (`POST …/action`, each
   making one or more events of that table's log); theirs, `io.emit` of K events with a counter,
   K = the median number of events our clients missed, so each client misses about as many.
4. Every client reconnects at once and is timed until it has everything it missed: ours, until
   its `welcome` (which carries the missed events, checked contiguous from its last seq); theirs,
   until the event with the last counter arrived on a recovered session (checked: `recovered`,
   no gap in the counter). Socket.IO recovers only a socket that has received a packet (its
   offset), so one event is broadcast and received by all before the first cut.

Not the same work, said in the notes: our missed events come from the store (SQLite or
PostgreSQL) and survive a restart; Socket.IO keeps its packets in the process's memory. Our
welcome also carries the player's whole view of the table.
"""

from __future__ import annotations

import json
import queue
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx
from rich.console import Console

from bench import server_bench as sb
from bench.goals import ratio_goal
from bench.server_games import expect, play_http
from bench.server_procs import (
    READY_TIMEOUT_S,
    ServerDatabases,
    discard,
    server_proc,
    stderr_file,
)
from bench.server_suite import ServerRow
from bench.stats import Summary, fmt_ms
from rejoin_testkit.processes import ServerProcess, free_port

if TYPE_CHECKING:
    from bench.ws_suite import WsPlan, WsResults

PEER_DIR = Path(__file__).resolve().parent / "peers" / "socketio"
DRIVER_TIMEOUT_S = 120.0
AWAY_S = 0.2  # after the cut, before the events: the servers have seen the sockets close


def socketio_version() -> str:
    lock = json.loads((PEER_DIR / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/socket.io"]["version"]
    assert isinstance(version, str)
    return version


def ensure_node() -> None:
    """node and npm on PATH, and `npm ci` done in peers/socketio (done here if it was not)."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(
            f"{' and '.join(missing)} not found: the Socket.IO peer of the WebSocket benchmarks "
            "needs Node.js 18+ and npm (e.g. `apt-get install nodejs npm`), then `npm ci` in "
            f"{PEER_DIR}."
        )
    if not (PEER_DIR / "node_modules" / "socket.io").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)


class Driver:
    """`node clients.js …`: one JSON line per command on stdout."""

    def __init__(self, argv: list[str]) -> None:
        self.popen = subprocess.Popen(
            ["node", str(PEER_DIR / "clients.js"), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PEER_DIR,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.popen.stdout is not None
        threading.Thread(target=self._read, args=(self.popen.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def expect(self, phase: str) -> dict[str, Any]:
        deadline = time.monotonic() + DRIVER_TIMEOUT_S
        while True:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(
                    f"node clients: no '{phase}' in {DRIVER_TIMEOUT_S:g} s"
                ) from None
            if line is None:
                raise RuntimeError(f"node clients exited ({self.popen.wait()}) before '{phase}'")
            if not line.startswith("{"):
                continue
            message: dict[str, Any] = json.loads(line)
            if message.get("phase") == "failed":
                raise RuntimeError(f"node clients failed: {message.get('error')}")
            if message.get("phase") == phase:
                return message

    def send(self, command: str, phase: str) -> dict[str, Any]:
        assert self.popen.stdin is not None
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()
        return self.expect(phase)

    def close(self) -> None:
        if self.popen.poll() is None:
            try:
                assert self.popen.stdin is not None
                self.popen.stdin.write("quit\n")
                self.popen.stdin.flush()
                self.popen.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait()


class Side:
    """One side's rounds: wall time to the last recovered client, per client, missed counts."""

    def __init__(self) -> None:
        self.walls: list[float] = []
        self.each: list[float] = []
        self.missed: list[int] = []
        self.cpu_s: list[float] = []
        self.connect_s = 0.0
        self.problems: list[str] = []

    def take(self, answer: dict[str, Any]) -> None:
        each = [ms / 1e3 for ms in answer["perClientMs"]]
        self.walls.append(max(each))
        self.each.extend(each)
        self.missed.extend(answer["missed"])
        self.cpu_s.append(answer["cpuMs"] / 1e3)
        if answer["problemCount"]:
            self.problems.append(f"{answer['problemCount']} clients: {answer['problems'][:2]}")


def ours_rounds(plan: WsPlan, url: str, db: str) -> Side:
    side = Side()
    server = server_proc(url, f"ws-peer-{db}")
    try:
        server.start_ready()
        tables = sb.seat_players(server, plan.peer_clients // 6, 6)
        players = [
            {
                "gameId": t.game_id,
                "playerId": p.player_id,
                "token": p.token,
                "clientId": p.client_id,
                "lastSeq": t.seq,
            }
            for t in tables
            for p in t.players
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
            json.dump({"url": f"ws://127.0.0.1:{server.port}", "players": players}, spec)
        driver = Driver(["ours", spec.name])
        try:
            ready = driver.expect("ready")
            side.connect_s = ready["connectMs"] / 1e3
            sessions = ready["sessions"]  # every welcome takes the seat anew: its token works
            with httpx.Client(base_url=server.url, timeout=30.0) as http:
                for _ in range(plan.peer_rounds):
                    driver.send("cut", "cut")
                    time.sleep(AWAY_S)
                    for table in tables:
                        for player in table.players:
                            player.session = sessions[player.player_id]
                        play_http(http, table, plan.peer_actions)
                    recovered = driver.send("reconnect", "recovered")
                    sessions = recovered["sessions"]
                    side.take(recovered)
        finally:
            driver.close()
            Path(spec.name).unlink(missing_ok=True)
    finally:
        discard(server)
    return side


def theirs_rounds(plan: WsPlan, events: int) -> Side:
    side = Side()
    port = free_port()
    server = ServerProcess(
        stderr_file("socketio"),
        command=["node", str(PEER_DIR / "server.js"), str(port)],
        port=port,
        address_flags=False,  # it takes its port as its one argument
        stamp_stdout=True,
        ready_timeout=READY_TIMEOUT_S,
    )
    try:
        server.start_ready()
        driver = Driver(["socketio", f"http://127.0.0.1:{port}", str(plan.peer_clients)])
        try:
            side.connect_s = driver.expect("ready")["connectMs"] / 1e3
            with httpx.Client(base_url=server.url, timeout=30.0) as http:
                # One event first: a socket that has received nothing has no offset to resume.
                counter = expect(http.post("/emit", params={"n": 1}))["counter"]
                driver.send(f"sync {counter}", "synced")
                for _ in range(plan.peer_rounds):
                    driver.send("cut", "cut")
                    time.sleep(AWAY_S)
                    counter = expect(http.post("/emit", params={"n": events}))["counter"]
                    side.take(driver.send(f"reconnect {counter}", "recovered"))
        finally:
            driver.close()
    finally:
        discard(server)
    return side


def run(plan: WsPlan, dbs: ServerDatabases, console: Console, results: WsResults) -> None:
    from bench.databases import POSTGRES, SQLITE
    from bench.server_suite import print_row

    # Issue 16's goals: a transient drop recovered about as fast as Socket.IO recovers it from
    # memory (ours / theirs).
    at_most = {SQLITE: 1.0, POSTGRES: 1.2}

    ensure_node()
    version = socketio_version()
    mine: dict[str, Side] = {}
    for db in plan.dbs:
        mine[db] = ours_rounds(plan, dbs.url(db == POSTGRES, "ws_peer"), db)
    first = mine[plan.dbs[0]]
    events = max(1, round(statistics.median(first.missed)))
    theirs = theirs_rounds(plan, events)
    n = plan.peer_clients
    for db, side in mine.items():
        for row in (
            ServerRow(
                f"WS cut {n} clients → all recovered",
                db,
                Summary.of(side.walls),
                f"Socket.IO {version}",
                Summary.of(theirs.walls),
            ),
            ServerRow(
                "  per client: reconnect → recovered",
                db,
                Summary.of(side.each),
                f"Socket.IO {version}",
                Summary.of(theirs.each),
            ),
            ServerRow(
                f"  {n} clients connect at once",
                db,
                Summary.of([side.connect_s]),
                f"Socket.IO {version}",
                Summary.of([theirs.connect_s]),
            ),
        ):
            results.rows.append(row)
            print_row(console, row)
        results.goals.append(
            ratio_goal(
                f"{n} clients cut → all recovered (median of {len(side.walls)})",
                db,
                Summary.of(side.walls).median_ms,
                f"Socket.IO {version}",
                Summary.of(theirs.walls).median_ms,
                at_most[db],
            )
        )
        results.notes.append(
            f"{db} vs Socket.IO {version}, transient cut ({plan.peer_rounds} rounds of {n} "
            f"clients): our clients missed {statistics.median(side.missed):g} events each "
            f"(median; {plan.peer_actions} HTTP actions per table while away), Socket.IO's "
            f"{statistics.median(theirs.missed):g} (io.emit of {events}). Node client process CPU "
            f"per recovery: ours {statistics.median(side.cpu_s):.2f} s, Socket.IO "
            f"{statistics.median(theirs.cpu_s):.2f} s, over walls of "
            f"{fmt_ms(Summary.of(side.walls).median_ms)} and "
            f"{fmt_ms(Summary.of(theirs.walls).median_ms)}."
            + (f" Problems (ours): {side.problems}." if side.problems else "")
            + (f" Problems (Socket.IO): {theirs.problems}." if theirs.problems else "")
        )
    results.notes.append(
        "Transient cut: the same Node process drives both sides' clients (`ws` 8 for ours, "
        f"socket.io-client {version} for theirs, WebSocket transport only, no compression on "
        "either). The cut: every client terminate()s its WebSocket (TCP closed, no close frame) "
        "at once. Socket.IO replays missed packets from its process's memory (connection state "
        "recovery, 2 min); ours from the durable log, and each welcome also carries the player's "
        "view of the table. Timed from the reconnect command to each client's last missed event "
        "(ours: the welcome that carries them)."
    )
