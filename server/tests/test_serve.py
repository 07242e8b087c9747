"""Running the `rejoin-server` command: `migrate`, the start-up errors (one line, exit 2), and
`serve`, from binding the port to the graceful shutdown on SIGTERM.

The app itself is not started here: `serve` is run with a stand-in `rejoin_server.app` (in-process,
and once in a real uvicorn process) so the command's own work is what is tested. The options are
tested in `test_cli.py`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import types
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import QueryParams

from rejoin_server import filelimit, gctune, serve, serverlogs
from rejoin_server.cli import parse_args
from rejoin_server.connections import BoundedH11Protocol, ConnectionLimits
from rejoin_server.filelimit import OpenFileLimit
from rejoin_server.logrepeats import RepeatFilter
from rejoin_server.settings import ServerSettings
from rejoin_server.store.migrate import HEAD_REVISION
from rejoin_testkit.processes import clean_env, free_port, run_server_command

# --- migrate, and databases that cannot be opened --------------------------------------------


def test_migrate_creates_the_tables_and_prints_the_revision(tmp_path: Path) -> None:
    path = tmp_path / "games.db"
    done = run_server_command("migrate", "--database-url", f"sqlite:///{path}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"database sqlite:///{path} migrated to revision {HEAD_REVISION}\n"
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"games", "events", "snapshots", "alembic_version"} <= tables
    assert revision == HEAD_REVISION

    again = run_server_command("migrate", "--database-url", f"sqlite:///{path}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"database sqlite:///{path} already at revision {HEAD_REVISION}\n"


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (["migrate"], "missing directory"),
        ([], "missing directory"),
        (["migrate"], "not SQLite"),
        ([], "not SQLite"),
        # (With --no-migrate a file that does not exist is "not migrated": see below.)
        (["--no-migrate"], "not SQLite"),
    ],
)
def test_a_sqlite_file_that_cannot_be_opened_is_one_line_and_exit_4(
    command: list[str], problem: str, tmp_path: Path
) -> None:
    if problem == "not SQLite":
        path = tmp_path / "not-a-database.db"
        path.write_text("this is not SQLite")
    else:
        path = tmp_path / "no" / "such" / "dir" / "rejoin.db"
    url = f"sqlite:///{path}"
    done = run_server_command(*command, "--database-url", url, cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(f"rejoin-server: error: cannot open the database {url}: ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["migrate"], []])
def test_an_unreachable_postgres_is_one_line_and_exit_4(command: list[str], tmp_path: Path) -> None:
    """4, not 2: the database may be back in a moment, and the systemd unit restarts a server
    that exits 4 (not one that exits 2, a problem only the operator can fix)."""
    url = f"postgresql://rejoin:hunter2@127.0.0.1:{free_port()}/games"
    done = run_server_command(*command, "--database-url", url, cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith(
        "rejoin-server: error: cannot open the database postgresql://rejoin:***@127.0.0.1:"
    )
    assert "refused" in done.stderr
    assert "hunter2" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_an_invalid_database_url_is_exit_2(tmp_path: Path) -> None:
    done = run_server_command("--database-url", "mysql://localhost/games", cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --database-url: 'mysql://localhost/games' is not a database URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_migrate_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    done = run_server_command(
        "--no-migrate", "--database-url", f"sqlite:///{tmp_path / 'new.db'}", cwd=tmp_path
    )
    assert done.returncode == 2
    assert f"is not at schema revision {HEAD_REVISION}" in done.stderr
    assert "rejoin-server migrate" in done.stderr
    assert not (tmp_path / "new.db").exists()  # checking creates nothing


# --- serve, with a stand-in app ---------------------------------------------------------------


class FakeApp:
    """Records what `serve` builds and runs, instead of the real app and uvicorn."""

    def __init__(self) -> None:
        self.settings: ServerSettings | None = None
        self.ran: tuple[int, str] | None = None
        self.max_connections: int | None = None
        self.gc_steps: list[str] = []  # what `serve` told the collector (`gctune`), in order

    def create_app(self, settings: ServerSettings, **_: object) -> Starlette:
        assert self.gc_steps == ["hold"]  # the app is built with the collector off
        self.settings = settings
        return Starlette()

    def run_uvicorn(
        self,
        app: Starlette,
        sock: socket.socket,
        log_level: str,
        settings: ServerSettings,
        max_connections: int,
        *,
        accepts_per_turn: int = 0,
    ) -> None:
        assert settings == self.settings
        assert self.gc_steps == ["hold", "settle"]  # the collector as a served process has it
        self.ran = (sock.getsockname()[1], log_level)
        self.max_connections = max_connections
        self.accepts_per_turn = accepts_per_turn
        sock.close()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    fake = FakeApp()
    module = types.ModuleType("rejoin_server.app")
    module.create_app = fake.create_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rejoin_server.app", module)
    monkeypatch.setattr(serve, "run_uvicorn", fake.run_uvicorn)
    # The server's logger is the test session's (caplog) to configure, not this process's.
    monkeypatch.setattr(serverlogs, "configure", lambda level: None)
    # Nor is the collector of the test session this process's to freeze: record what it is told.
    for step in ("hold", "settle", "release"):
        monkeypatch.setattr(gctune, step, functools.partial(fake.gc_steps.append, step))
    return fake


def _serve(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert serve.serve(parse_args(argv, env), sys.stdout) == 0
    return capsys.readouterr().out.splitlines()


def test_serve_migrates_prints_where_and_the_generated_token_then_runs(
    fake: FakeApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rejoin.db"
    lines = _serve(
        ["--port", "0", "--database-url", f"sqlite:///{path}", "--log-level", "warning"], {}, capsys
    )
    assert fake.settings is not None
    assert fake.ran is not None
    port, log_level = fake.ran
    assert port != 0
    assert log_level == "warning"
    assert lines[:2] == [
        f"rejoin-server listening on http://127.0.0.1:{port} (database: sqlite:///{path})",
        f"admin token: {fake.settings.admin_token}",
    ]
    assert lines[2].startswith(f"demo table: http://127.0.0.1:{port}/ (")
    assert len(lines) == 3
    assert fake.settings.admin_token is not None
    assert len(fake.settings.admin_token) == 32  # secrets.token_urlsafe(24)
    # The CLI migrated, so the app is told not to; and it is told the port it really has.
    expected = replace(parse_args([], {}).settings, database_url=f"sqlite:///{path}", port=port)
    assert fake.settings == replace(expected, admin_token=fake.settings.admin_token, migrate=False)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD_REVISION,)
        ]


def test_serve_does_not_print_a_token_it_was_given(
    fake: FakeApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://u:hunter2@127.0.0.1:{free_port()}/db"
    sqlite_url = f"sqlite:///{tmp_path / 'rejoin.db'}"
    lines = _serve(
        ["--port", "0", "--database-url", sqlite_url],
        {"REJOIN_ADMIN_TOKEN": "operator-secret-token", "REJOIN_DATABASE_URL": url},
        capsys,
    )
    assert fake.settings is not None
    assert fake.settings.admin_token == "operator-secret-token"
    assert lines[1] == "admin token: (given by REJOIN_ADMIN_TOKEN)"
    assert "operator-secret-token" not in "\n".join(lines)


def test_serve_on_a_port_in_use_is_a_startup_error(fake: FakeApp, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        invocation = parse_args(
            ["--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'r.db'}"], {}
        )
        with pytest.raises(
            serve.StartupError,
            match=f"cannot listen on 127.0.0.1:{port}: .*; choose another --port",
        ):
            serve.serve(invocation, sys.stdout)
    assert fake.ran is None


def test_a_database_error_releases_the_port(fake: FakeApp, tmp_path: Path) -> None:
    port = free_port()
    invocation = parse_args(
        ["--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'no' / 'dir.db'}"], {}
    )
    with pytest.raises(serve.StartupError, match="cannot open the database"):
        serve.serve(invocation, sys.stdout)
    assert fake.settings is None
    assert fake.gc_steps == ["release"]  # collecting as before (it failed before loading)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def stand_in_app(lifespan: str, route: str, handler: str) -> str:
    """A script that runs the real `rejoin-server` command with a stand-in `rejoin_server.app`:
    its lifespan's body (`lifespan`), and one route served by `handler` (the source of a function
    of the same name as the route's last segment)."""
    name = route.rsplit("/", 1)[-1]
    return "\n".join(
        [
            "import contextlib, sys, time, types",
            "from starlette.applications import Starlette",
            "from starlette.responses import PlainTextResponse",
            "from starlette.routing import Route",
            "",
            "@contextlib.asynccontextmanager",
            "async def lifespan(app):",
            textwrap.indent(textwrap.dedent(lifespan).strip(), "    "),
            "",
            textwrap.dedent(handler).strip(),
            "",
            "def create_app(settings, **_):",
            f"    return Starlette(routes=[Route({route!r}, {name})], lifespan=lifespan)",
            "",
            'module = types.ModuleType("rejoin_server.app")',
            "module.create_app = create_app",
            'sys.modules["rejoin_server.app"] = module',
            "from rejoin_server.cli import main",
            "sys.exit(main())",
        ]
    )


def launch_stand_in(tmp_path: Path, app_script: str) -> subprocess.Popen[str]:
    """Run a `stand_in_app` script as `rejoin-server --port 0` on a SQLite file in `tmp_path`,
    with its standard output and error piped as text."""
    return subprocess.Popen(
        [
            *(sys.executable, "-c", app_script, "--port", "0", "--log-level", "warning"),
            *("--database-url", f"sqlite:///{tmp_path / 'rejoin.db'}"),
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def listening_at(proc: subprocess.Popen[str]) -> str:
    """The base URL of the server's first line ("rejoin-server listening on …")."""
    assert proc.stdout is not None
    listening = proc.stdout.readline()
    assert listening.startswith("rejoin-server listening on http://127.0.0.1:"), proc.stderr
    return listening.split()[3]


STAND_IN_APP = stand_in_app(
    """
    print("lifespan started", flush=True)
    yield
    print("lifespan stopped", flush=True)
    """,
    "/healthz",
    """
    async def healthz(request):
        return PlainTextResponse("ok")
    """,
)


@pytest.mark.timeout(60)
def test_a_real_process_serves_and_shuts_down_gracefully_on_sigterm(tmp_path: Path) -> None:
    """Through real uvicorn with a stand-in app: the printed port answers, SIGTERM runs the app's
    lifespan shutdown, and the process then exits 0."""
    proc = launch_stand_in(tmp_path, STAND_IN_APP)
    try:
        base = listening_at(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("admin token: ")
        assert proc.stdout.readline().startswith("demo table: http://127.0.0.1:")
        # The port was bound before the app started: this waits in the queue, it is not refused.
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            assert response.read() == b"ok"
        assert proc.stdout.readline() == "lifespan started\n"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out == "lifespan stopped\n", err
    assert proc.returncode == 0, err
    assert "Traceback" not in err


WARMING_APP = stand_in_app(
    """
    print(f"pokerkit at start-up: {'pokerkit.state' in sys.modules}", flush=True)
    yield
    """,
    "/loaded",
    """
    def loaded(request):  # sync: Starlette runs it in a thread, so polling here blocks nothing
        deadline = time.monotonic() + 30
        while "pokerkit.state" not in sys.modules and time.monotonic() < deadline:
            time.sleep(0.01)
        return PlainTextResponse(str("pokerkit.state" in sys.modules))
    """,
)


@pytest.mark.timeout(60)
def test_pokerkit_loads_in_the_background_once_the_server_has_started(tmp_path: Path) -> None:
    """The app starts without pokerkit (`games.poker.warmup`); nothing in the stand-in app asks
    for it, and it is loaded soon after all the same."""
    proc = launch_stand_in(tmp_path, WARMING_APP)
    try:
        base = listening_at(proc)
        assert proc.stdout is not None
        with urllib.request.urlopen(f"{base}/loaded", timeout=30) as response:
            assert response.read() == b"True"
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[2] == "pokerkit at start-up: False\n", lines
    finally:
        proc.kill()
        proc.wait()


async def test_accepted_connections_have_nagle_off() -> None:
    """asyncio sets TCP_NODELAY on accepted sockets only when the listening socket says it is TCP;
    without it every answer's body waits ~40 ms for the client's delayed ACK."""
    listener = serve.bind("127.0.0.1", 0)
    seen: list[int] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=listener)
    async with server:
        port = listener.getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()
        writer.close()
    assert len(seen) == 1
    assert seen[0] != 0


def test_serve_says_how_to_build_a_missing_browser_bundle(
    fake: FakeApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "web"
    empty.mkdir()
    db = f"sqlite:///{tmp_path / 'rejoin.db'}"
    lines = _serve(["--port", "0", "--database-url", db, "--web-dir", str(empty)], {}, capsys)
    assert fake.settings is not None
    assert fake.settings.web_dir == str(empty)
    assert f"browser bundle not built in {empty}" in lines[2]
    assert "nox -s bundle" in lines[2]


# --- logging ----------------------------------------------------------------------------------


def test_the_server_and_asyncio_log_a_repeated_line_once(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Out of file descriptors, asyncio reports each failed accept() (issue 12: a million lines
    in 35 s); the server's own loggers could flood the same way."""
    server_logger = logging.getLogger("rejoin_server")
    asyncio_logger = logging.getLogger("asyncio")
    # What _configure_logging sets up is undone after the test (pytest's caplog needs it).
    monkeypatch.setattr(server_logger, "handlers", [])
    monkeypatch.setattr(server_logger, "propagate", True)
    monkeypatch.setattr(asyncio_logger, "filters", [])
    level = server_logger.level
    try:
        serverlogs.configure("info")
        serverlogs.configure("info")  # idempotent: one filter each
        for port in range(100):
            logging.getLogger("rejoin_server.connections").warning("refused %s", port)
    finally:
        server_logger.setLevel(level)
    assert capsys.readouterr().err == "WARNING   rejoin_server.connections: refused 0\n"

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        for fd in range(100):
            asyncio_logger.error(
                f"socket.accept() out of system resource\nsocket: <fd={fd}>",
                exc_info=OSError(24, "Too many open files"),
            )
    assert len([r for r in caplog.records if r.name == "asyncio"]) == 1
    assert len([f for f in asyncio_logger.filters if isinstance(f, RepeatFilter)]) == 1


# --- the open-file limit ----------------------------------------------------------------------


def test_serve_caps_connections_under_the_open_file_limit_and_says_so(
    fake: FakeApp,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit = OpenFileLimit(1024, 1024)
    monkeypatch.setattr(filelimit, "raise_soft_limit", lambda: limit)
    db = f"sqlite:///{tmp_path / 'rejoin.db'}"
    with caplog.at_level(logging.INFO, logger="rejoin_server"):
        _serve(["--port", "0", "--database-url", db], {}, capsys)
    assert fake.max_connections == 1024 - filelimit.RESERVE
    assert fake.accepts_per_turn == filelimit.FEWEST_ACCEPTS  # little to spare: a few a turn
    said = [r for r in caplog.records if r.name == "rejoin_server"]
    assert [(r.levelname, r.getMessage()) for r in said] == [
        ("WARNING", filelimit.shortfall(10_000, limit))
    ]


def test_serve_with_room_for_every_connection_says_nothing_of_it(
    fake: FakeApp,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(filelimit, "raise_soft_limit", lambda: OpenFileLimit(1024, 1024))
    db = f"sqlite:///{tmp_path / 'rejoin.db'}"
    with caplog.at_level(logging.INFO, logger="rejoin_server"):
        _serve(["--port", "0", "--database-url", db, "--max-connections", "500"], {}, capsys)
    assert fake.max_connections == 500
    assert fake.accepts_per_turn == (1024 - 500 - filelimit.OWN_FILES) // filelimit.TURNS_HELD
    assert not [r for r in caplog.records if r.name == "rejoin_server"]


def test_an_open_file_limit_too_low_to_serve_is_a_startup_error(
    fake: FakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filelimit, "raise_soft_limit", lambda: OpenFileLimit(100, 100))
    invocation = parse_args(["--port", "0", "--database-url", f"sqlite:///{tmp_path / 'r.db'}"], {})
    with pytest.raises(serve.StartupError, match="the open-file limit is 100, too low to serve"):
        serve.serve(invocation, sys.stdout)
    assert fake.settings is None
    assert not (tmp_path / "r.db").exists()  # stopped before anything else


# --- what uvicorn is given --------------------------------------------------------------------


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch) -> list[uvicorn.Config]:
    """The Config of each `run_uvicorn`, which then returns at once instead of serving."""
    seen: list[uvicorn.Config] = []

    def run(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.append(self.config)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    return seen


def run_config(configs: list[uvicorn.Config], settings: ServerSettings, cap: int) -> uvicorn.Config:
    sock = serve.bind("127.0.0.1", 0)
    try:
        serve.run_uvicorn(Starlette(), sock, "warning", settings, cap)
    finally:
        sock.close()
    (config,) = configs
    return config


def test_run_uvicorn_gives_uvicorn_the_limits_and_trusts_no_forwarded_header(
    configs: list[uvicorn.Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn's own variable would trust anyone's X-Forwarded-For: it is not read.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    # --max-connections is 10000, the cap (under the open-file limit) 42: the cap counts.
    settings = ServerSettings(
        header_timeout_ms=2500, body_timeout_ms=1500, keep_alive_timeout_ms=750
    )
    config = run_config(configs, settings, 42)
    assert config.proxy_headers is False
    assert config.forwarded_allow_ips == []
    assert config.timeout_keep_alive == 0.75
    # Not uvicorn's limit_concurrency (see `connections`): the cap is the protocol's.
    assert config.limit_concurrency is None
    assert config.backlog == filelimit.FEWEST_ACCEPTS  # run_config gives no accepts_per_turn
    assert isinstance(config.http, type)
    assert issubclass(config.http, BoundedH11Protocol)
    assert config.http.limits == ConnectionLimits(42, header_timeout_s=2.5, body_timeout_s=1.5)


def test_trusted_proxies_are_the_only_ones_whose_forwarded_headers_count(
    configs: list[uvicorn.Config],
) -> None:
    settings = ServerSettings(trusted_proxies=("10.1.2.3/8", "::1", "192.0.2.7"))
    config = run_config(configs, settings, 10)
    assert config.proxy_headers is True
    # As networks: uvicorn would take "10.1.2.3/8" for a name and never match it.
    assert config.forwarded_allow_ips == ["10.0.0.0/8", "::1/128", "192.0.2.7/32"]


# --- the access log ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/game/g/events?session=SECRET", "/api/game/g/events?session=***"),
        ("/e?after=3&session=SECRET&x=1", "/e?after=3&session=***&x=1"),
        ("/e?%73ession=SECRET", "/e?%73ession=***"),
        ("/e?sess%69on=SECRET", "/e?sess%69on=***"),
        ("/e?%73%65%73%73%69%6F%6E=SECRET&after=1", "/e?%73%65%73%73%69%6F%6E=***&after=1"),
        ("/e?session=A&%73ession=B", "/e?session=***&%73ession=***"),
        ("/e?session=", "/e?session=***"),
        ("/e?session", "/e?session=***"),
        # Not the session parameter as Starlette reads them: left as they are.
        ("/e?sessions=x&Session=y&x=session&session+=z", None),
        ("/e?x=1;session=y", None),
        ("/e", None),
        ("/e?", None),
    ],
)
def test_mask_session_masks_every_key_starlette_reads_as_session(
    target: str, logged: str | None
) -> None:
    assert serverlogs.mask_session(target) == (logged or target)
    query = target.partition("?")[2]
    assert (logged is not None) == ("session" in QueryParams(query)), "not as Starlette reads it"


def access_log_record(client: str, target: str) -> logging.LogRecord:
    """What uvicorn's access logger hands its filters for one `GET target` answered 200."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (client, "GET", target, "1.1", 200),
        None,
    )


def test_session_tokens_are_masked_in_access_logs() -> None:
    target = "/api/game/g/events?after=3&session=SECRET.x&z=1"
    record = access_log_record("127.0.0.1:5", target)
    assert serverlogs.mask_session_in_access_log(record)
    line = record.getMessage()
    assert "SECRET" not in line
    assert "after=3&session=***&z=1" in line


def test_the_access_log_filter_masks_the_request_target() -> None:
    record = access_log_record("127.0.0.1:5000", "/api/game/g/events?%73ession=SECRET")
    assert serverlogs.mask_session_in_access_log(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "GET /api/game/g/events?%73ession=*** HTTP/1.1" 200'
    )


# --- the listen queue -------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_the_listen_queue_holds_a_reconnect_storm_while_the_server_is_busy(
    tmp_path: Path,
) -> None:
    """uvicorn's create_server listens with the accepts per turn (see serve); once started, the
    queue is LISTEN_BACKLOG long again: with the process stopped (as busy as it gets), 300
    clients still complete their connections instead of waiting on SYN retries."""
    proc = launch_stand_in(tmp_path, STAND_IN_APP)
    clients: list[socket.socket] = []
    try:
        base = listening_at(proc)
        port = int(base.rsplit(":", 1)[1])
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            assert response.read() == b"ok"  # started: uvicorn has listened
        proc.send_signal(signal.SIGSTOP)
        for _ in range(300):
            # A full queue drops the SYN, and the kernel retries it only after a second.
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        proc.send_signal(signal.SIGCONT)
    finally:
        for client in clients:
            client.close()
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.communicate(timeout=30)
