"""Developer and CI entry points. `python3 -m pip install nox` is the one prerequisite.

nox -s tests   everything but the browser, on SQLite and PostgreSQL (REJOIN_TEST_POSTGRES_URL)
nox -s lint    ruff and mypy --strict
nox -s bench   the benchmarks of bench/, with ratios against peers measured in the same run
nox -s serve   the server on ./rejoin.db (options after --, e.g. nox -s serve -- --port 9000)
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
PACKAGES = ["-e", "packages/protocol", "-e", "server", "-e", "client_sdk"]
REPORTS = ROOT / ".reports"


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, contract and property tests on SQLite and PostgreSQL (PostgreSQL must be running)."""
    session.install("-r", "requirements/dev.txt", *PACKAGES)
    REPORTS.mkdir(exist_ok=True)
    session.run(
        "pytest",
        f"--junitxml={REPORTS / 'junit-tests.xml'}",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict over every Python part of the repository."""
    session.install("-r", "requirements/dev.txt", "-r", "requirements/bench.txt", *PACKAGES)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run(
        "mypy",
        "packages/protocol/src",
        "server/src",
        "client_sdk/src",
        "server/tests",
        "packages/protocol/tests",
        "bench",
        "migrations",
        "e2e",
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: median and p99 of ours and of peers, and the ratios. Not a test: no pass/fail."""
    session.install("-r", "requirements/bench.txt", *PACKAGES)
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def serve(session: nox.Session) -> None:
    """The server, as a user runs it: `rejoin-server` on ./rejoin.db (or REJOIN_DATABASE_URL).
    Options after `--` go to `rejoin-server`, e.g. `nox -s serve -- --port 9000`."""
    session.install(*PACKAGES)
    # Build the browser bundle here (Pyodide and the SDK wheels, served at /pyodide/ and /sdk/)
    # once client_sdk/web exists, so that the demo page works from this one command.
    # A flag beats REJOIN_DATABASE_URL: the default is passed only when that is unset.
    database = (
        [] if os.environ.get("REJOIN_DATABASE_URL") else ["--database-url", "sqlite:///./rejoin.db"]
    )
    session.run("rejoin-server", *database, *session.posargs)
