"""Fixtures of the e2e tests: databases, server processes, a PostgreSQL cluster of the test's own.

- `db_url`: SQLite (a fresh file) and PostgreSQL (a fresh database on REJOIN_TEST_POSTGRES_URL,
  dropped afterwards) in turn. An unreachable PostgreSQL fails the test; it never skips.
  `sqlite_url`: a fresh SQLite file alone.
- `spawn(db_url, *flags)`: a started, ready `ServerProcess` (`open_files=N`: its open-file limit);
  every one is SIGKILLed at teardown if still running, and a failing test's report carries the
  tail of each server's log.
- `server` / `api`: one server on `db_url` and a client for it with the admin token.
- `throwaway_postgres`: a started `ThrowawayPostgres`, stopped and removed at teardown.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from e2e.support.pgcluster import ThrowawayPostgres
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.fixtures import postgres_database
from rejoin_testkit.processes import ServerProcess

DEFAULT_TIMEOUT_S = 240
SERVERS = pytest.StashKey[list[ServerProcess]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and item.get_closest_marker("timeout") is None:
            # A hung server must fail a test, not the whole run.
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for server in item.stash.get(SERVERS, []):
            report.sections.append((f"server log {server.log_path.name}", server.log_tail()))
    return report


@pytest.fixture
def admin_token() -> str:
    return f"e2e-admin-{secrets.token_hex(8)}"


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["sqlite", POSTGRES])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one server (it migrates it at start): SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rejoin.db'}"
        return
    with postgres_database(prefix="rejoin_e2e") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one server (it migrates it at start), for the tests that run on
    SQLite alone."""
    return f"sqlite:///{tmp_path / 'rejoin.db'}"


@pytest.fixture
def spawn(request: pytest.FixtureRequest, tmp_path: Path, admin_token: str) -> Iterator[Spawn]:
    """Start `python -m rejoin_server` on `database_url` with `flags`; wait until ready unless
    `ready=False`; with its open-file limit at `open_files` when given. Everything started is
    killed at teardown."""
    started: list[ServerProcess] = []
    request.node.stash[SERVERS] = started

    def start(
        database_url: str,
        *flags: str,
        env: dict[str, str] | None = None,
        ready: bool = True,
        open_files: int | None = None,
    ) -> ServerProcess:
        server = ServerProcess(
            tmp_path / f"server-{len(started) + 1}.log",
            database_url=database_url,
            admin_token=admin_token,
            args=flags,
            env=env,
            open_files=open_files,
        )
        started.append(server)
        server.start()
        if ready:
            server.wait_ready()
        return server

    yield start
    for server in started:
        server.cleanup()


@pytest.fixture
def server(spawn: Spawn, db_url: str) -> ServerProcess:
    return spawn(db_url)


@pytest.fixture
def make_api(admin_token: str) -> Iterator[Callable[[ServerProcess], Api]]:
    made: list[Api] = []

    def make(server: ServerProcess) -> Api:
        api = Api(server.url, admin_token)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture
def api(server: ServerProcess, make_api: Callable[[ServerProcess], Api]) -> Api:
    return make_api(server)


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()
