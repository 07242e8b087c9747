"""Real processes for the server benchmarks: `python -m rejoin_server` and the bare floor app.

A `Proc` is launched with `subprocess.Popen`, killed with a real SIGKILL (`os.kill`) and relaunched
on the same port. Its stdout is read by a thread that timestamps every line (`perf_counter`), so a
benchmark can tell when the server printed "listening" (its imports done and the database checked);
its stderr goes to a file, shown when the process dies unexpectedly.

`server_databases` gives each server benchmark a PostgreSQL database of its own (created beside the
run's database and dropped with it), so a restarted server's warm-up sees only that benchmark's
games.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.databases import Databases

FLOOR_SCRIPT = Path(__file__).resolve().with_name("server_floor.py")
ADMIN_TOKEN = "bench-admin-token"  # a throwaway server's operator token
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class Proc:
    """One server (or floor app) command line, launched and relaunched on one port."""

    argv: list[str]
    port: int
    name: str
    popen: subprocess.Popen[bytes] | None = None
    launched_at: float = 0.0  # perf_counter just before Popen
    lines: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter, stdout line)
    _stderr: Path | None = None
    _reader: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} is not running"
        return self.popen.pid

    def launch(self) -> float:
        """Start the process (not waiting for it); the perf_counter when Popen returned."""
        if self._stderr is None:
            fd, path = tempfile.mkstemp(prefix=f"rejoin_bench_{self.name}_", suffix=".log")
            os.close(fd)
            self._stderr = Path(path)
        self.lines = []
        stderr = self._stderr.open("ab")
        try:
            self.launched_at = time.perf_counter()
            self.popen = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL
            )
        finally:
            stderr.close()
        spawned = time.perf_counter()
        self._reader = threading.Thread(target=self._read, args=(self.popen,), daemon=True)
        self._reader.start()
        return spawned

    def _read(self, popen: subprocess.Popen[bytes]) -> None:
        assert popen.stdout is not None
        for raw in popen.stdout:
            self.lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip()))

    def line_at(self, prefix: str) -> float | None:
        """When the first stdout line containing `prefix` was read, if it was."""
        return next((at for at, line in list(self.lines) if prefix in line), None)

    def wait_ready(self, path: str = "/healthz", timeout_s: float = READY_TIMEOUT_S) -> float:
        """Poll `path` until it answers 200; the perf_counter of that answer."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if client.get(path).status_code == 200:
                        return time.perf_counter()
                time.sleep(0.01)
        raise RuntimeError(
            f"{self.name} did not answer {path} within {timeout_s:g} s{self._tail()}"
        )

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def check_alive(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with status {self.popen.returncode}{self._tail()}"
            )

    def sigkill(self) -> None:
        """A real kill -9, then reap the process (its stdout reader ends with it)."""
        popen = self.popen
        if popen is None:
            return
        if popen.poll() is None:
            os.kill(popen.pid, signal.SIGKILL)
        popen.wait()
        if self._reader is not None:  # it reads to the end of the dead process's stdout
            self._reader.join(timeout=5.0)
            self._reader = None
        if popen.stdout is not None:
            popen.stdout.close()
        self.popen = None

    def stop(self) -> None:
        """SIGKILL (what the benchmarks are about) and remove the stderr file."""
        self.sigkill()
        if self._stderr is not None:
            self._stderr.unlink(missing_ok=True)
            self._stderr = None

    def _tail(self) -> str:
        if self._stderr is None or not self._stderr.exists():
            return ""
        text = self._stderr.read_text(errors="replace").strip()
        return f"; its stderr ends with:\n{text[-3000:]}" if text else ""


# The benchmarks play hands back to back (zero delays) and set up a hundred tables and a thousand
# players from one address in a second: they lower the bounds a public server keeps, and raise
# the per-address rates far past their workload. The limiters still run, so their cost is
# measured with everything else.
BENCH_LIMITS = (
    "--min-action-timeout", "0",
    "--min-next-hand-delay", "0",
    "--rate-create", "1000000/m",
    "--rate-join", "1000000/m",
    "--rate-connect-address", "1000000/m",
)  # fmt: skip


def server_proc(
    database_url: str, name: str, *, durability: str = "strict", port: int | None = None
) -> Proc:
    argv = [
        sys.executable,
        "-m",
        "rejoin_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port or free_port()),
        "--database-url",
        database_url,
        "--admin-token",
        ADMIN_TOKEN,
        "--durability",
        durability,
        "--log-level",
        "warning",
        *BENCH_LIMITS,
    ]
    return Proc(argv, int(argv[6]), name)


def floor_proc(name: str, *, server_imports: bool = False) -> Proc:
    port = free_port()
    argv = [sys.executable, str(FLOOR_SCRIPT), "--port", str(port)]
    if server_imports:
        argv.append("--server-imports")
    return Proc(argv, port, name)


@contextmanager
def running(proc: Proc) -> Iterator[Proc]:
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def server_databases(dbs: Databases) -> Iterator[ServerDatabases]:
    made = ServerDatabases(dbs)
    try:
        yield made
    finally:
        made.drop_all()


class ServerDatabases:
    """PostgreSQL databases named `<the run's database>_<name>` and SQLite files in the run's
    folder, one per server benchmark."""

    def __init__(self, dbs: Databases) -> None:
        self._dbs = dbs
        self._made: list[str] = []

    def url(self, postgres: bool, name: str) -> str:
        if not postgres:
            return self._dbs.sqlite_url(f"server-{name}")
        base = self._dbs.postgres
        database = f"{base.database}_{name}"
        with psycopg.connect(self._dbs.postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        self._made.append(database)
        url = make_url(self._dbs.postgres_url).set(database=database)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(self._dbs.postgres_url, autocommit=True) as conn:
            for database in self._made:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
        self._made.clear()
