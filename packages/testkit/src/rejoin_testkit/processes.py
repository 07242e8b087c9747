"""Server processes the tests and benchmarks start, kill -9 and restart.

A `ServerProcess` runs `python -m rejoin_server` (or any command that serves `GET /healthz`) as a
real child in its own process group, with stdout and stderr appended to one log file. `kill9()`
sends a real SIGKILL to the whole group; `restart()` starts the same command on the same port.
`open_files=N` starts it with its open-file limit at N, soft and hard (it cannot raise it).
`stamp_stdout=True` reads its stdout through a pipe instead and notes when each line arrived
(`line_at`), for benchmarks that time a restart up to the server's "listening" line.
`path="/games"`: the command is a host app that serves rejoin under that prefix; `url` ends with
it, so `/healthz` is polled there and clients built on `url` speak to rejoin.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .polling import wait_for

# How long a server may take to answer /healthz; e2e/README.md documents the variable.
READY_TIMEOUT_S = float(os.environ.get("REJOIN_E2E_READY_TIMEOUT", "30"))
STOP_TIMEOUT_S = 15.0
LOG_TAIL_CHARS = 6000


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This process's environment without any REJOIN_* setting: the outer shell's settings must not
    leak into a test's server, each test says what its server gets."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REJOIN_")}


def _child_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = clean_env()
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_server_command(
    *args: str, cwd: Path, python_options: Sequence[str] = (), timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python [python_options] -m rejoin_server ARGS` in `cwd`, run to its end with a clean
    environment (`clean_env`); its stdout and stderr as text."""
    return subprocess.run(  # noqa: S603 - argv is built here, not from input
        [sys.executable, *python_options, "-m", "rejoin_server", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ServerProcess:
    """One server as a child process; start, kill -9, terminate and restart it at will."""

    def __init__(
        self,
        log_path: Path,
        *,
        database_url: str | None = None,
        admin_token: str | None = None,
        args: Sequence[str] = (),
        port: int | None = None,
        env: dict[str, str] | None = None,
        command: Sequence[str] | None = None,
        address_flags: bool = True,
        open_files: int | None = None,
        stamp_stdout: bool = False,
        ready_timeout: float = READY_TIMEOUT_S,
        path: str = "",
    ) -> None:
        """`command` replaces `python -m rejoin_server` (a stand-in, a benchmark's floor app); it
        gets `--host 127.0.0.1 --port P` appended like the server does, unless `address_flags` is
        False (a command that takes its port some other way, given here as `port`).
        `open_files`: RLIMIT_NOFILE of the process, soft and hard. `stamp_stdout`: see the module.
        `ready_timeout`: how long `wait_ready` waits unless told. `path`: see the module."""
        self.port = port if port is not None else free_port()
        self.log_path = log_path
        self.database_url = database_url
        self.admin_token = admin_token
        self.extra_args = list(args)
        self.env = _child_env(env)
        self._base = (
            list(command) if command is not None else [sys.executable, "-m", "rejoin_server"]
        )
        self.address_flags = address_flags
        self.open_files = open_files
        self.stamp_stdout = stamp_stdout
        self.ready_timeout = ready_timeout
        self.path = path.rstrip("/")
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.starts = 0
        self.started_at = 0.0  # perf_counter when the newest start's Popen returned
        # (perf_counter, line) of the newest start's stdout, with `stamp_stdout`.
        self.lines: list[tuple[float, str]] = []

    # What it runs.

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def argv(self) -> list[str]:
        argv = list(self._base)
        if self.address_flags:
            argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.database_url is not None:
            argv += ["--database-url", self.database_url]
        if self.admin_token is not None:
            argv += ["--admin-token", self.admin_token]
        return argv + self.extra_args

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    # Lifecycle.

    def start(self) -> ServerProcess:
        if self.running:
            raise RuntimeError(f"server pid {self.pid} is still running; stop it first")
        self.starts += 1
        self.lines = []
        with self.log_path.open("ab") as log:
            log.write(f"\n=== testkit: start #{self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            # Its own session, hence its own process group: kill9 reaches anything it spawns.
            self._proc = subprocess.Popen(  # noqa: S603 - argv is built here, not from input
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if self.stamp_stdout else log,
                stderr=log if self.stamp_stdout else subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=self._limit_open_files if self.open_files is not None else None,  # noqa: PLW1509 - setrlimit only, no locks
            )
        self.started_at = time.perf_counter()
        if self.stamp_stdout:
            self._reader = threading.Thread(
                target=self._stamp, args=(self._proc, self.lines), daemon=True
            )
            self._reader.start()
        return self

    @staticmethod
    def _stamp(proc: subprocess.Popen[bytes], lines: list[tuple[float, str]]) -> None:
        """In a thread: every stdout line of one start with the perf_counter it was read at (into
        that start's list, so a late line of a killed process never lands in the next one's)."""
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip()))

    def line_at(self, text: str) -> float | None:
        """When the first stdout line containing `text` was read (`stamp_stdout` only), if it was."""
        return next((at for at, line in list(self.lines) if text in line), None)

    def _limit_open_files(self) -> None:
        """In the child, before exec: both limits, so the server cannot raise its own."""
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def wait_ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Poll `GET /healthz` until it answers 200; return its JSON. Fails (with the log) if the
        process exits or time runs out."""

        def probe() -> dict[str, Any] | None:
            if not self.running:
                raise AssertionError(
                    f"server exited with code {self.returncode} before it was ready\n"
                    f"{self.log_tail()}"
                )
            try:
                reply = httpx.get(f"{self.url}/healthz", timeout=1.0)
            except httpx.TransportError:
                return None
            if reply.status_code != 200:
                return None
            body: dict[str, Any] = reply.json()
            return body

        return wait_for(
            probe,
            timeout=self.ready_timeout if timeout is None else timeout,
            what=f"{self.url}/healthz to answer 200",
            detail=self.log_tail,
        )

    def start_ready(self, timeout: float | None = None) -> ServerProcess:
        self.start()
        self.wait_ready(timeout)
        return self

    def kill9(self) -> None:
        """SIGKILL the process group and wait until the server is gone."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise RuntimeError("kill9: the server is not running")
        self._mark("kill -9")
        self._signal_group(proc, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)
        self._drain(proc)

    def terminate(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM (graceful shutdown) and wait; returns the exit code. Fails if it hangs."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise RuntimeError("terminate: the server is not running")
        self._mark("SIGTERM")
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)
            raise AssertionError(
                f"server did not exit within {timeout} s of SIGTERM\n{self.log_tail()}"
            ) from None

    def restart(self, timeout: float | None = None) -> float:
        """Start again (same port, same arguments) and wait until ready; returns the seconds from
        spawning to the first healthy answer."""
        began = time.monotonic()
        self.start()
        self.wait_ready(timeout)
        return time.monotonic() - began

    def cleanup(self) -> None:
        """Kill whatever is left (the whole group), never raising."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)
        self._drain(proc)

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        """After the process died: the stamping thread reads its stdout to the end, then the pipe
        is closed (a relaunch opens a new one)."""
        if self._reader is not None:
            self._reader.join(timeout=5.0)
            self._reader = None
        if proc.stdout is not None:
            proc.stdout.close()

    # Logs.

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        text = self.log()
        cut = text[-chars:] if len(text) > chars else text
        return f"--- server log {self.log_path} (last {len(cut)} chars) ---\n{cut}"

    def _mark(self, what: str) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n=== testkit: {what} pid {self.pid}\n".encode())

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
