"""The `rejoin-server` command: options → `ServerSettings`, `migrate`, and the start-up errors.

The app itself is not started here: `serve` is run with a stand-in `rejoin_server.app` (in-process,
and once in a real uvicorn process) so the command's own work is what is tested.
"""

from __future__ import annotations

import asyncio
import os
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
from starlette.applications import Starlette

from rejoin_server import cli
from rejoin_server.cli import Invocation, mask_url, parse_args
from rejoin_server.settings import ServerSettings
from rejoin_server.store.migrate import HEAD_REVISION

# Every serve option, as documented in DESIGN §7 and the README.
SERVE_OPTIONS = [
    "--host",
    "--port",
    "--database-url",
    "--admin-token",
    "--durability",
    "--token-ttl",
    "--snapshot-every",
    "--keep-snapshots",
    "--replay-limit",
    "--no-migrate",
    "--cleanup-interval",
    "--retention",
    "--abandon-after",
    "--max-games",
    "--max-storage-bytes",
    "--log-level",
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The test process's environment without any REJOIN_* setting that would leak in."""
    return {key: value for key, value in os.environ.items() if not key.startswith("REJOIN_")}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rejoin_server", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], **env: str) -> str:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv, env)
    assert exited.value.code == 2
    return capsys.readouterr().err


# --- parsing ----------------------------------------------------------------------------------


def test_no_options_is_serve_with_the_settings_defaults() -> None:
    invocation = parse_args([], {})
    assert invocation == Invocation("serve", ServerSettings(), "info", None)
    assert invocation.settings.database_url == "sqlite:///./rejoin.db"
    assert invocation.settings.migrate


def test_the_serve_word_is_optional() -> None:
    assert parse_args(["serve", "--port", "9000"], {}) == parse_args(["--port", "9000"], {})


def test_every_serve_option() -> None:
    invocation = parse_args(
        [
            "--host=0.0.0.0",
            "--port=9000",
            "--database-url=postgresql://rejoin:pw@db.example:5432/games",
            "--admin-token=operator",
            "--durability=relaxed",
            "--token-ttl=15m",
            "--snapshot-every=50",
            "--keep-snapshots=5",
            "--replay-limit=0",
            "--no-migrate",
            "--cleanup-interval=30s",
            "--retention=12h",
            "--abandon-after=2h",
            "--max-games=1000",
            "--max-storage-bytes=1_000_000",
            "--log-level=debug",
        ],
        {},
    )
    assert invocation == Invocation(
        "serve",
        ServerSettings(
            host="0.0.0.0",
            port=9000,
            database_url="postgresql://rejoin:pw@db.example:5432/games",
            admin_token="operator",
            durability="relaxed",
            token_ttl_ms=15 * 60_000,
            snapshot_every=50,
            keep_snapshots=5,
            replay_limit=0,
            migrate=False,
            cleanup_interval_ms=30_000,
            retention_ms=12 * 3_600_000,
            abandon_after_ms=2 * 3_600_000,
            max_games=1000,
            max_storage_bytes=1_000_000,
        ),
        "debug",
        "--admin-token",
    )


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("500ms", 500),
        ("15s", 15_000),
        ("30m", 1_800_000),
        ("12h", 43_200_000),
        ("7d", 604_800_000),
        ("90", 90_000),
        ("1.5h", 5_400_000),
    ],
)
def test_durations(text: str, ms: int) -> None:
    settings = parse_args(
        [
            "--token-ttl",
            text,
            "--cleanup-interval",
            text,
            "--retention",
            text,
            "--abandon-after",
            text,
        ],
        {},
    ).settings
    assert settings.token_ttl_ms == settings.cleanup_interval_ms == ms
    assert settings.retention_ms == settings.abandon_after_ms == ms


def test_a_retention_of_zero_deletes_completed_games_at_once() -> None:
    assert parse_args(["--retention", "0s"], {}).settings.retention_ms == 0


def test_environment_variables() -> None:
    invocation = parse_args(
        [],
        {
            "REJOIN_DATABASE_URL": "postgresql://u@h:5432/db",
            "REJOIN_ADMIN_TOKEN": "from-env",
            "REJOIN_DURABILITY": "relaxed",
            "REJOIN_SECRET_KEYS": " new-key , old-key,,",
        },
    )
    assert invocation.settings.database_url == "postgresql://u@h:5432/db"
    assert invocation.settings.admin_token == "from-env"
    assert invocation.admin_token_from == "REJOIN_ADMIN_TOKEN"
    assert invocation.settings.durability == "relaxed"
    assert invocation.settings.secret_keys == ("new-key", "old-key")


def test_a_flag_beats_its_environment_variable() -> None:
    invocation = parse_args(
        ["--database-url", "sqlite:///flag.db", "--admin-token", "flag", "--durability", "strict"],
        {
            "REJOIN_DATABASE_URL": "sqlite:///env.db",
            "REJOIN_ADMIN_TOKEN": "env",
            "REJOIN_DURABILITY": "relaxed",
        },
    )
    assert invocation.settings.database_url == "sqlite:///flag.db"
    assert invocation.settings.admin_token == "flag"
    assert invocation.admin_token_from == "--admin-token"
    assert invocation.settings.durability == "strict"


def test_an_empty_environment_variable_is_unset() -> None:
    invocation = parse_args(
        [], {"REJOIN_DATABASE_URL": "", "REJOIN_ADMIN_TOKEN": "", "REJOIN_SECRET_KEYS": " , "}
    )
    assert invocation == Invocation("serve", ServerSettings(), "info", None)


def test_help_lists_every_option_with_its_default_and_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"], {})
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for option in SERVE_OPTIONS:
        assert option in text
    for variable in ("REJOIN_DATABASE_URL", "REJOIN_ADMIN_TOKEN", "REJOIN_DURABILITY"):
        assert variable in text
    assert "REJOIN_SECRET_KEYS" in text
    assert "migrate" in text
    for default in ("127.0.0.1", "8000", "sqlite:///./rejoin.db", "30m", "7d", "1h", "1000"):
        assert f"default {default}" in text
    # One "(default" per option, and `--help` itself has none.
    assert " ".join(text.split()).count("default") >= len(SERVE_OPTIONS)


def test_signing_keys_have_no_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments" in usage_error(["--secret-keys", "k1"], capsys)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--token-ttl", "soon"], "argument --token-ttl: 'soon' is not a duration"),
        (["--token-ttl", "0s"], "argument --token-ttl: '0s' must be longer than zero"),
        (["--cleanup-interval", "5 weeks"], "argument --cleanup-interval"),
        (["--retention", "-1d"], "argument --retention"),
        (["--abandon-after", "1y"], "argument --abandon-after"),
        (["--port", "70000"], "argument --port: '70000' is out of range"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (["--snapshot-every", "0"], "argument --snapshot-every"),
        (["--keep-snapshots", "0"], "argument --keep-snapshots"),
        (["--replay-limit", "-1"], "argument --replay-limit"),
        (["--max-games", "0"], "argument --max-games"),
        (["--max-storage-bytes", "lots"], "argument --max-storage-bytes"),
        (["--durability", "eventual"], "argument --durability: invalid choice"),
        (["--log-level", "loud"], "argument --log-level: invalid choice"),
        (["--admin-token", " "], "argument --admin-token: the admin token must not be empty"),
        (["--database-url", "mysql://u:hunter2@h/db"], "argument --database-url"),
        (["--database-url", "rejoin.db"], "argument --database-url"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_option(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(argv, capsys)
    assert says in err
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REJOIN_DURABILITY", "fast"),
        ("REJOIN_DATABASE_URL", "redis://localhost"),
    ],
)
def test_bad_environment_variables_are_usage_errors_naming_the_variable(
    variable: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"error: {variable}: " in usage_error([], capsys, **{variable: value})


def test_migrate_takes_the_database_url_from_the_flag_or_the_environment() -> None:
    env = {"REJOIN_DATABASE_URL": "postgresql://u@h/db"}
    assert parse_args(["migrate"], {}) == Invocation("migrate", ServerSettings())
    assert parse_args(["migrate"], env).settings.database_url == "postgresql://u@h/db"
    flag = parse_args(["migrate", "--database-url", "sqlite:///m.db"], env)
    assert flag.settings.database_url == "sqlite:///m.db"


def test_migrate_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["migrate", "--help"], {})
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "usage: rejoin-server migrate" in text
    assert "--database-url" in text
    assert "REJOIN_DATABASE_URL" in text


def test_migrate_takes_no_serve_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments: --port" in usage_error(["migrate", "--port", "1"], capsys)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:///./rejoin.db", "sqlite:///./rejoin.db"),
        ("sqlite:////var/lib/rejoin.db", "sqlite:////var/lib/rejoin.db"),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        (
            "postgresql://u:s3cr%40t@h:6543/db?sslmode=require",
            "postgresql://u:***@h:6543/db?sslmode=require",
        ),
        (
            "postgresql://u@h/db?password=s3cret&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
    ],
)
def test_mask_url_hides_passwords_only(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_help_imports_no_web_or_database_library(tmp_path: Path) -> None:
    """Restart speed: `--help` (and every usage error) must not pay for uvicorn or SQLAlchemy."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rejoin_server", "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()}
    assert "rejoin_server.cli" in imported
    assert not imported & {"uvicorn", "starlette", "sqlalchemy", "sqlmodel", "alembic", "psycopg"}


# --- migrate, and databases that cannot be opened --------------------------------------------


def test_migrate_creates_the_tables_and_prints_the_revision(tmp_path: Path) -> None:
    path = tmp_path / "games.db"
    done = run_cli("migrate", "--database-url", f"sqlite:///{path}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"database sqlite:///{path} migrated to revision {HEAD_REVISION}\n"
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"games", "events", "snapshots", "alembic_version"} <= tables
    assert revision == HEAD_REVISION

    again = run_cli("migrate", "--database-url", f"sqlite:///{path}", cwd=tmp_path)
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
def test_a_sqlite_file_that_cannot_be_opened_is_one_line_and_exit_2(
    command: list[str], problem: str, tmp_path: Path
) -> None:
    if problem == "not SQLite":
        path = tmp_path / "not-a-database.db"
        path.write_text("this is not SQLite")
    else:
        path = tmp_path / "no" / "such" / "dir" / "rejoin.db"
    url = f"sqlite:///{path}"
    done = run_cli(*command, "--database-url", url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"rejoin-server: error: cannot open the database {url}: ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["migrate"], []])
def test_an_unreachable_postgres_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    url = f"postgresql://rejoin:hunter2@127.0.0.1:{closed_port()}/games"
    done = run_cli(*command, "--database-url", url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        "rejoin-server: error: cannot open the database postgresql://rejoin:***@127.0.0.1:"
    )
    assert "refused" in done.stderr
    assert "hunter2" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_an_invalid_database_url_is_exit_2(tmp_path: Path) -> None:
    done = run_cli("--database-url", "mysql://localhost/games", cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --database-url: 'mysql://localhost/games' is not a database URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_migrate_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    done = run_cli(
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

    def create_app(self, settings: ServerSettings) -> Starlette:
        self.settings = settings
        return Starlette()

    def run_uvicorn(self, app: Starlette, sock: socket.socket, log_level: str) -> None:
        self.ran = (sock.getsockname()[1], log_level)
        sock.close()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    fake = FakeApp()
    module = types.ModuleType("rejoin_server.app")
    module.create_app = fake.create_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rejoin_server.app", module)
    monkeypatch.setattr(cli, "run_uvicorn", fake.run_uvicorn)
    # The server's logger is the test session's (caplog) to configure, not this process's.
    monkeypatch.setattr(cli, "_configure_logging", lambda level: None)
    return fake


def _serve(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert cli.serve(parse_args(argv, env), sys.stdout) == 0
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
    assert lines == [
        f"rejoin-server listening on http://127.0.0.1:{port} (database: sqlite:///{path})",
        f"admin token: {fake.settings.admin_token}",
    ]
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
    url = f"postgresql://u:hunter2@127.0.0.1:{closed_port()}/db"
    sqlite_url = f"sqlite:///{tmp_path / 'rejoin.db'}"
    lines = _serve(
        ["--port", "0", "--database-url", sqlite_url],
        {"REJOIN_ADMIN_TOKEN": "operator-secret", "REJOIN_DATABASE_URL": url},
        capsys,
    )
    assert fake.settings is not None
    assert fake.settings.admin_token == "operator-secret"
    assert lines[1] == "admin token: (given by REJOIN_ADMIN_TOKEN)"
    assert "operator-secret" not in "\n".join(lines)


def test_serve_on_a_port_in_use_is_a_startup_error(fake: FakeApp, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        invocation = parse_args(
            ["--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'r.db'}"], {}
        )
        with pytest.raises(cli.StartupError, match=f"cannot listen on 127.0.0.1:{port}"):
            cli.serve(invocation, sys.stdout)
    assert fake.ran is None


def test_a_database_error_releases_the_port(fake: FakeApp, tmp_path: Path) -> None:
    port = closed_port()
    invocation = parse_args(
        ["--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'no' / 'dir.db'}"], {}
    )
    with pytest.raises(cli.StartupError, match="cannot open the database"):
        cli.serve(invocation, sys.stdout)
    assert fake.settings is None
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


STAND_IN_APP = textwrap.dedent(
    """
    import contextlib, sys, types
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app):
        print("lifespan started", flush=True)
        yield
        print("lifespan stopped", flush=True)

    async def healthz(request):
        return PlainTextResponse("ok")

    def create_app(settings):
        return Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)

    module = types.ModuleType("rejoin_server.app")
    module.create_app = create_app
    sys.modules["rejoin_server.app"] = module
    from rejoin_server.cli import main
    sys.exit(main())
    """
)


@pytest.mark.timeout(60)
def test_a_real_process_serves_and_shuts_down_gracefully_on_sigterm(tmp_path: Path) -> None:
    """Through real uvicorn with a stand-in app: the printed port answers, SIGTERM runs the app's
    lifespan shutdown, and the process then exits 0."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            STAND_IN_APP,
            "--port",
            "0",
            "--log-level",
            "warning",
            "--database-url",
            f"sqlite:///{tmp_path / 'rejoin.db'}",
        ],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        listening = proc.stdout.readline()
        assert listening.startswith("rejoin-server listening on http://127.0.0.1:"), proc.stderr
        base = listening.split()[3]
        assert proc.stdout.readline().startswith("admin token: ")
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


async def test_accepted_connections_have_nagle_off() -> None:
    """asyncio sets TCP_NODELAY on accepted sockets only when the listening socket says it is TCP;
    without it every answer's body waits ~40 ms for the client's delayed ACK."""
    listener = cli.bind("127.0.0.1", 0)
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
