"""Real processes for the server benchmarks: `python -m rejoin_server` and the bare floor app.

Each is a `rejoin_testkit` `ServerProcess`, killed with a real SIGKILL and relaunched on the same
port. Its stdout is read by a thread that timestamps every line (`perf_counter`), so a benchmark
can tell when the server printed "listening" (its imports done and the database checked); its
stderr goes to a file, shown when the process dies unexpectedly.

`server_databases` gives each server benchmark a PostgreSQL database of its own (created beside the
run's database and dropped with it), so a restarted server's warm-up sees only that benchmark's
games.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.databases import Databases
from rejoin_testkit.postgres import throwaway_database
from rejoin_testkit.processes import ServerProcess

FLOOR_SCRIPT = Path(__file__).resolve().with_name("server_floor.py")
ADMIN_TOKEN = "bench-admin-token"  # a throwaway server's operator token
READY_TIMEOUT_S = 60.0


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
    database_url: str,
    name: str,
    *,
    durability: str = "strict",
    port: int | None = None,
    node_id: str | None = None,
) -> ServerProcess:
    """`python -m rejoin_server` on `database_url`, access logs off; `node_id`: its `--node-id`
    in a cluster (docs/cluster.md)."""
    node = ("--node-id", node_id) if node_id is not None else ()
    return ServerProcess(
        stderr_file(name),
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        args=("--durability", durability, "--log-level", "warning", *node, *BENCH_LIMITS),
        port=port,
        stamp_stdout=True,
        ready_timeout=READY_TIMEOUT_S,
    )


def floor_proc(name: str, *, server_imports: bool = False) -> ServerProcess:
    return ServerProcess(
        stderr_file(name),
        command=[sys.executable, str(FLOOR_SCRIPT)],
        args=["--server-imports"] if server_imports else [],
        stamp_stdout=True,
        ready_timeout=READY_TIMEOUT_S,
    )


def stderr_file(name: str) -> Path:
    """A fresh file for one process's stderr (its stdout is read and stamped), shown when it dies
    before it is ready, removed by `discard`."""
    fd, path = tempfile.mkstemp(prefix=f"rejoin_bench_{name}_", suffix=".log")
    os.close(fd)
    return Path(path)


def discard(proc: ServerProcess) -> None:
    """SIGKILL whatever is left of `proc` (what the benchmarks are about) and remove its stderr
    file."""
    proc.cleanup()
    proc.log_path.unlink(missing_ok=True)


@contextmanager
def running(proc: ServerProcess) -> Iterator[ServerProcess]:
    proc.start_ready()
    try:
        yield proc
    finally:
        discard(proc)


@contextmanager
def served(folder: Path, name: str) -> Iterator[ServerProcess]:
    """A server on a fresh SQLite file in `folder`, ready; killed (whole group) at the end (the
    browser benchmarks: their pages, not the database, are what they measure)."""
    server = ServerProcess(
        folder / f"{name}.log",
        database_url=f"sqlite:///{folder / name}.db",
        admin_token=secrets.token_hex(16),
    )
    try:
        server.start_ready()
        yield server
    finally:
        server.cleanup()


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
        self._made = ExitStack()

    def url(self, postgres: bool, name: str) -> str:
        if not postgres:
            return self._dbs.sqlite_url(f"server-{name}")
        database = f"{self._dbs.postgres.database}_{name}"
        return self._made.enter_context(throwaway_database(self._dbs.postgres_url, name=database))

    def drop_all(self) -> None:
        self._made.close()
