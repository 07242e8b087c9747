"""The example host app of examples/embedded (a site of its own, rejoin mounted under /games) as a
real uvicorn process: `uvicorn app:app` with the database in `REJOIN_DATABASE_URL`, as its
README says to run it."""

from __future__ import annotations

import sys
from pathlib import Path

from rejoin_testkit.processes import ServerProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embedded"
PREFIX = "/games"


def example_host(log_path: Path, database_url: str) -> ServerProcess:
    """The host app (not started) on `database_url`. Its `url` is rejoin's base under the prefix;
    `origin` (below) is the host's own root."""
    return ServerProcess(
        log_path,
        # uvicorn takes --host and --port like rejoin-server: ServerProcess appends them.
        command=[sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(EXAMPLE)],
        env={"REJOIN_DATABASE_URL": database_url},
        path=PREFIX,
    )


def origin(server: ServerProcess) -> str:
    """The host app's root: `url` without the prefix."""
    return f"http://127.0.0.1:{server.port}"
