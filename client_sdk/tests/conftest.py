"""Fixtures of the SDK's tests: a real `python -m rejoin_server` on a fresh SQLite file.

`RealServer` is a child process in its own process group, so `kill9()` is a real SIGKILL of all
of it, and `restart()` starts the same command on the same port. (The e2e harness has a bigger
one; it is not importable from here under the repository's `--import-mode=importlib`.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

READY_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RealServer:
    def __init__(self, tmp_path: Path, *flags: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "server.log"
        self.argv = [
            sys.executable, "-m", "rejoin_server", "--host", "127.0.0.1", "--port",
            str(self.port), "--database-url", f"sqlite:///{tmp_path / 'rejoin.db'}",
            # The chaos test plays fast hands (a 50 ms delay between them).
            "--min-next-hand-delay", "0",
            *flags,
        ]  # fmt: skip
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The outer shell's REJOIN_* settings must not reach the test's server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REJOIN_")}
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self._wait_ready()

    def kill9(self) -> None:
        assert self._proc is not None, "the server was never started"
        assert self._proc.poll() is None, "the server is not running"
        os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait(timeout=15)

    def restart(self) -> None:
        self.start()

    def cleanup(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=15)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise AssertionError(f"server exited with {self._proc.returncode}\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.02)
        raise AssertionError(f"server not ready within {READY_TIMEOUT_S} s\n{self.log()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RealServer]:
    process = RealServer(tmp_path)
    try:
        process.start()
        yield process
    finally:
        process.cleanup()
