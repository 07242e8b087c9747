"""A PostgreSQL cluster of a test's own, to stop and start under a running server.

`initdb` into a temporary directory and `pg_ctl start` on a free port, with the socket directory
there too. initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user
(`runuser -u postgres --`) in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from rejoin_testkit.processes import free_port

OS_USER = "postgres"


def postgres_bindir() -> Path:
    """REJOIN_E2E_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else `pg_config`."""
    env = os.environ.get("REJOIN_E2E_PG_BINDIR")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if found:
        return Path(found[-1])
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise RuntimeError("no PostgreSQL binaries found: set REJOIN_E2E_PG_BINDIR")
    out = subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True)  # noqa: S603
    return Path(out.stdout.strip())


class ThrowawayPostgres:
    """initdb + pg_ctl on a free port; `stop()` and `start()` as often as a test wants."""

    def __init__(self, port: int | None = None, bindir: Path | None = None) -> None:
        self.port = port if port is not None else free_port()
        self.bindir = bindir if bindir is not None else postgres_bindir()
        self._as_root = os.geteuid() == 0
        # Not under pytest's tmp_path: that tree is private to root (0700) and postgres must reach
        # its data directory. mkdtemp gives a fresh 0700 directory we hand over to postgres.
        self.root = Path(tempfile.mkdtemp(prefix="rejoin-e2e-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "postgres.log"
        self.sockets.mkdir()
        if self._as_root:
            user = pwd.getpwnam(OS_USER)
            for path in (self.root, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._initialised = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", OS_USER, "--"]
        full = (prefix if self._as_root else []) + list(argv)
        result = subprocess.run(full, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(full)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self.log()}"
            )
        return result

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self._initialised = True

    def start(self) -> None:
        """Start (initdb first if needed) and wait until it accepts connections."""
        if not self._initialised:
            self.init()
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=50"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """`pg_ctl stop -m immediate` (like a crash: no checkpoint) or `fast`."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        if not self._initialised:
            return False
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return result.returncode == 0

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except (FileNotFoundError, PermissionError):
            return ""

    def cleanup(self) -> None:
        """Stop it if it runs and remove its directory, never raising."""
        try:
            if self.is_running():
                self.stop("immediate")
        except (RuntimeError, subprocess.SubprocessError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
