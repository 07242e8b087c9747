"""PgBouncer in transaction mode in front of the test PostgreSQL (Debian's `pgbouncer`), for the
tests that run a cluster through a pooler the way Supabase's pooler runs it.

A missing one fails those tests, it never skips them (`programs.find_program`). PgBouncer
refuses to run as root: as root it is started with `-u postgres` (Debian's PostgreSQL user), so
its configuration lives in a directory that user can read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from .polling import wait_for
from .processes import free_port
from .programs import find_program

RUN_AS = "postgres"  # when started as root


def find_pgbouncer() -> str:
    """The path of the `pgbouncer` executable (`programs.find_program`)."""
    return find_program("pgbouncer")


def _config(upstream_host: str, upstream_port: int, port: int, users: Path) -> str:
    return f"""\
[databases]
* = host={upstream_host} port={upstream_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
; Transaction pooling: a server connection is lent for one transaction only, so session state
; (LISTEN, advisory locks, prepared statements) does not survive, as with Supabase's pooler.
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
"""


@contextlib.contextmanager
def pgbouncer(direct_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the PostgreSQL of `direct_url`; yields the same
    URL through it, with `?pgbouncer=true` (rejoin then sends no server-side prepared
    statements). Stopped on the way out."""
    parts = urlsplit(direct_url)
    host, upstream_port = parts.hostname or "127.0.0.1", parts.port or 5432
    user = parts.username or RUN_AS
    folder = Path(tempfile.mkdtemp(prefix="rejoin-pgbouncer-"))
    folder.chmod(0o755)  # readable by the user PgBouncer runs as
    users = folder / "users.txt"
    users.write_text(f'"{user}" ""\n')
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(_config(host, upstream_port, port, users))
    for path in (users, config):
        path.chmod(0o644)
    command = [find_pgbouncer()]
    if os.geteuid() == 0:
        command += ["-u", RUN_AS]
    log = (folder / "pgbouncer.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - argv is built here, not from input
        [*command, str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    pooled = urlunsplit((parts.scheme, netloc, parts.path, "pgbouncer=true", ""))
    probe = urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def answers() -> bool | None:
        if proc.poll() is not None:
            raise AssertionError(
                f"pgbouncer exited with {proc.returncode}: "
                f"{(folder / 'pgbouncer.log').read_text()[-2000:]}"
            )
        try:
            with psycopg.connect(probe, connect_timeout=1, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return None
        return True

    try:
        wait_for(answers, timeout=15, what="pgbouncer answering")
        yield pooled
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
