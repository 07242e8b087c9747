"""Fixtures of the SDK's tests: a real `python -m rejoin_server` on a fresh SQLite file.

The server is `rejoin_testkit`'s `ServerProcess`: a child in its own process group, so `kill9()` is
a real SIGKILL of all of it, and `restart()` starts the same command on the same port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rejoin_testkit.processes import ServerProcess


def sqlite_server(tmp_path: Path, *flags: str) -> ServerProcess:
    """A server (not started) on `tmp_path`/rejoin.db, logging to `tmp_path`/server.log."""
    return ServerProcess(
        tmp_path / "server.log",
        database_url=f"sqlite:///{tmp_path / 'rejoin.db'}",
        # The chaos test plays fast hands (a 50 ms delay between them).
        args=("--min-next-hand-delay", "0", *flags),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = sqlite_server(tmp_path)
    try:
        process.start_ready()
        yield process
    finally:
        process.cleanup()
