"""The `rejoin-server` command line: options and environment variables → `Invocation`, the help
texts, usage errors, and that `--help` stays cheap to import.

Running what was parsed (migrate, serve, the start-up errors) is tested in `test_serve.py`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rejoin_server.cli import Invocation, build_parser, main, mask_url, parse_args
from rejoin_server.cli.values import MIN_SECRET_CHARS
from rejoin_server.settings import Rate, ServerSettings, parse_rate
from rejoin_testkit.processes import run_server_command

# Every serve option, as documented in docs/operations.md and the README.
SERVE_OPTIONS = [
    "--host",
    "--port",
    "--database-url",
    "--node-id",
    "--admin-token",
    "--durability",
    "--persist-fraction",
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
    "--ping-interval",
    "--sse-retry",
    "--idle-timeout",
    "--log-level",
]


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
            "--admin-token=operator-token-0123",
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
            "--ping-interval=2s",
            "--sse-retry=250ms",
            "--idle-timeout=6s",
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
            admin_token="operator-token-0123",
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
            ping_interval_ms=2_000,
            sse_retry_ms=250,
            idle_timeout_ms=6_000,
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
            "REJOIN_ADMIN_TOKEN": "token-from-the-env",
            "REJOIN_DURABILITY": "relaxed",
            "REJOIN_SECRET_KEYS": " new-key-0123456789 , old-key-0123456789,,",
        },
    )
    assert invocation.settings.database_url == "postgresql://u@h:5432/db"
    assert invocation.settings.admin_token == "token-from-the-env"
    assert invocation.admin_token_from == "REJOIN_ADMIN_TOKEN"
    assert invocation.settings.durability == "relaxed"
    assert invocation.settings.secret_keys == ("new-key-0123456789", "old-key-0123456789")


def test_a_flag_beats_its_environment_variable() -> None:
    invocation = parse_args(
        [
            "--database-url",
            "sqlite:///flag.db",
            "--admin-token",
            "token-from-the-flag",
            "--durability",
            "strict",
        ],
        {
            "REJOIN_DATABASE_URL": "sqlite:///env.db",
            "REJOIN_ADMIN_TOKEN": "token-from-the-env",
            "REJOIN_DURABILITY": "relaxed",
        },
    )
    assert invocation.settings.database_url == "sqlite:///flag.db"
    assert invocation.settings.admin_token == "token-from-the-flag"
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


def every_option() -> list[str]:
    """Every option `rejoin-server --help` shows, read off the parser itself."""
    return [
        flag
        for action in build_parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    ]


def test_the_readme_documents_every_option() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert set(SERVE_OPTIONS) <= set(every_option())
    for option in every_option():
        assert f"| `{option}` |" in readme, f"{option} is missing from the README's flag tables"


def test_help_shows_every_limit_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"], {})
    text = " ".join(capsys.readouterr().out.split())
    for option in every_option():
        assert option in text
    for shown in (
        "(default 1s)",
        "(default 1000000)",
        "(default 1m)",
        "(default 10000,",
        "(default 30/m;",
        "(default 6000/m;",
        "REJOIN_TRUSTED_PROXIES",
    ):
        assert shown in text, shown


def test_limits_from_the_command_line() -> None:
    settings = parse_args(
        [
            "--min-action-timeout=500ms",
            "--min-next-hand-delay=0",
            "--max-starting-stack=5000",
            "--unattended-after=2m",
            "--max-events-per-game=10",
            "--max-connections=50",
            "--header-timeout=3s",
            "--body-timeout=4s",
            "--keep-alive-timeout=2s",
            "--rate-create=5/10s",
            "--rate-join=off",
            "--trusted-proxy=10.0.0.0/8",
            "--trusted-proxy=::1",
            "--session-ttl=2h",
            "--retire-stored-key",
        ],
        {},
    ).settings
    assert (settings.min_action_timeout_ms, settings.min_next_hand_delay_ms) == (500, 0)
    assert (settings.max_starting_stack, settings.max_events_per_game) == (5000, 10)
    assert (settings.unattended_after_ms, settings.max_connections) == (120_000, 50)
    assert (settings.header_timeout_ms, settings.body_timeout_ms) == (3000, 4000)
    assert settings.keep_alive_timeout_ms == 2000
    assert settings.rate_create == Rate(5, 10_000)
    assert settings.rate_join is None  # off
    assert settings.rate_token == ServerSettings().rate_token  # not given: the default
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.session_ttl_ms == 7_200_000
    assert settings.retire_stored_key
    env = parse_args([], {"REJOIN_TRUSTED_PROXIES": "192.0.2.1, 198.51.100.0/24"}).settings
    assert env.trusted_proxies == ("192.0.2.1", "198.51.100.0/24")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--rate-join", "fast"], "is not a rate"),
        (["--rate-join", "0/m"], "above zero"),
        (["--trusted-proxy", "proxy.local"], "is not an IP address or network"),
        (["--max-connections", "0"], "out of range"),
    ],
)
def test_bad_limits_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert says in usage_error(argv, capsys)


def test_a_rate_is_shown_as_written() -> None:
    assert [str(r) for r in (Rate(30, 60_000), Rate(5, 10_000), Rate(1, 1500))] == [
        "30/m",
        "5/10s",
        "1/1500ms",
    ]
    assert parse_rate(" 100 / 10m ") == Rate(100, 600_000)
    assert parse_rate("OFF") is None


def test_an_idle_timeout_must_outlast_the_ping_interval(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = usage_error(["--ping-interval", "10s", "--idle-timeout", "5s"], capsys)
    assert "error: --idle-timeout 5s must be longer than --ping-interval 10s: " in err
    assert "_ms" not in err  # the flags' words, not the settings' field names
    err = usage_error(["--idle-timeout", "1s"], capsys)
    assert "--idle-timeout 1s must be longer than --ping-interval 5s (its default)" in err


def test_signing_keys_have_no_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments" in usage_error(["--secret-keys", "k1"], capsys)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--token-ttl", "soon"], "argument --token-ttl: 'soon' is not a duration"),
        (["--token-ttl", "0s"], "argument --token-ttl: '0s' must be longer than zero"),
        (["--cleanup-interval", "5 weeks"], "argument --cleanup-interval"),
        (["--retention", "-1d"], "--retention: '-1d' is negative: a duration here is zero or"),
        (["--token-ttl", "-5s"], "--token-ttl: '-5s' is negative: a duration here is longer than"),
        (["--token-ttl=-5s"], "argument --token-ttl: '-5s' is negative: a duration here is"),
        (["--abandon-after", "1y"], "argument --abandon-after"),
        (["--port", "70000"], "argument --port: '70000' is out of range"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (["--snapshot-every", "0"], "argument --snapshot-every"),
        (["--keep-snapshots", "0"], "argument --keep-snapshots"),
        (["--replay-limit", "-1"], "argument --replay-limit"),
        (["--max-games", "0"], "argument --max-games"),
        (["--max-storage-bytes", "lots"], "argument --max-storage-bytes"),
        (["--durability", "eventual"], "argument --durability: invalid choice"),
        (["--persist-fraction", "1.5"], "argument --persist-fraction: '1.5' is out of range"),
        (["--persist-fraction", "half"], "argument --persist-fraction: 'half' is not a number"),
        (["--persist-fraction", "nan"], "argument --persist-fraction: 'nan' is out of range"),
        (["--log-level", "loud"], "argument --log-level: invalid choice"),
        (["--admin-token", " "], "argument --admin-token: the admin token must not be empty"),
        (["--database-url", "mysql://u:hunter2@h/db"], "argument --database-url"),
        (["--database-url", "rejoin.db"], "argument --database-url"),
        (["--node-id", "web 1"], "argument --node-id: 'web 1' is not a node id"),
        (["--node-id", "x" * 65], "argument --node-id"),
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
        ("REJOIN_PERSIST_FRACTION", "2"),
        ("REJOIN_DATABASE_URL", "redis://localhost"),
        ("REJOIN_NODE_ID", "web/1"),
    ],
)
def test_bad_environment_variables_are_usage_errors_naming_the_variable(
    variable: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"error: {variable}: " in usage_error([], capsys, **{variable: value})


PLACEHOLDER_TOKEN = "replace-with-a-long-random-token"  # what the env example once said


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (
            ["--admin-token", PLACEHOLDER_TOKEN],
            {},
            "argument --admin-token: the admin token is still the example's placeholder",
        ),
        (
            [],
            {"REJOIN_ADMIN_TOKEN": PLACEHOLDER_TOKEN},
            "error: REJOIN_ADMIN_TOKEN: the admin token is still the example's placeholder",
        ),
        (
            ["--admin-token", "hunter2-hunter2"],
            {},
            "argument --admin-token: the admin token is 15 characters long, shorter than 16",
        ),
        (
            [],
            {"REJOIN_SECRET_KEYS": "replace-with-a-long-random-key"},
            "error: REJOIN_SECRET_KEYS (key 1 of 1): a secret key is still the example's",
        ),
        (
            [],
            {"REJOIN_SECRET_KEYS": "a-good-long-key-0123456789,hunter2"},
            "error: REJOIN_SECRET_KEYS (key 2 of 2): a secret key is 7 characters long",
        ),
    ],
    ids=["placeholder-flag", "placeholder-env", "short-token", "placeholder-key", "short-key"],
)
def test_a_placeholder_or_short_secret_is_refused(
    argv: list[str], env: dict[str, str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator who forgot to edit the example's secrets, or chose a short one, is told at
    once (exit 2), with how to make one, and the short secret is not printed."""
    err = usage_error(argv, capsys, **env)
    assert says in err
    assert "secrets.token_urlsafe(32)" in err
    assert "hunter2" not in err
    assert err.strip().splitlines()[-1].startswith("rejoin-server: error: ")


def test_sixteen_characters_are_enough() -> None:
    token = "x" * MIN_SECRET_CHARS
    invocation = parse_args(["--admin-token", token], {"REJOIN_SECRET_KEYS": token})
    assert (invocation.settings.admin_token, invocation.settings.secret_keys) == (token, (token,))


def test_the_persist_fraction_from_the_flag_or_the_environment() -> None:
    assert parse_args([], {}).settings.persist_fraction == 1.0
    assert parse_args(["--persist-fraction", "0.25"], {}).settings.persist_fraction == 0.25
    env = {"REJOIN_PERSIST_FRACTION": "0.5"}
    assert parse_args([], env).settings.persist_fraction == 0.5
    # A flag of 0 beats the variable: zero is a fraction given, not "unset".
    assert parse_args(["--persist-fraction", "0"], env).settings.persist_fraction == 0.0
    assert parse_args([], {"REJOIN_PERSIST_FRACTION": ""}).settings.persist_fraction == 1.0


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


# --- proxy-config -----------------------------------------------------------------------------

PROXY = ["proxy-config", "--listen", "0.0.0.0:80"]


def test_proxy_config_takes_where_to_listen_and_the_nodes() -> None:
    invocation = parse_args(
        [*PROXY, "--node", "http://10.0.0.5:8000", "--node", "HTTP://Node-2.example:8000/"],
        {"REJOIN_DATABASE_URL": "postgresql://u@h/db", "REJOIN_NODE_ID": "env-1"},
    )
    assert invocation == Invocation(
        "proxy-config",
        ServerSettings(),  # no server settings: the environment does not apply
        proxy_listen=("0.0.0.0", 80),
        proxy_nodes=("http://10.0.0.5:8000", "http://node-2.example:8000"),
    )
    assert parse_args(
        ["proxy-config", "--node=http://[::1]:8001", "--listen=[::]:8080"], {}
    ).proxy_listen == ("::", 8080)


def test_the_other_commands_have_no_proxy_settings() -> None:
    for argv in ([], ["migrate"]):
        invocation = parse_args(argv, {})
        assert (invocation.proxy_listen, invocation.proxy_nodes) == (None, ())


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["proxy-config"], "the following arguments are required: --listen, --node"),
        (PROXY, "the following arguments are required: --node"),
        (
            ["proxy-config", "--node", "http://a:1"],
            "the following arguments are required: --listen",
        ),
        ([*PROXY[:2], "80", "--node", "http://a:1"], "argument --listen: '80' is not HOST:PORT"),
        ([*PROXY[:2], "a:0", "--node", "http://a:1"], "argument --listen: 'a:0' is not HOST:PORT"),
        ([*PROXY[:2], "::1:80", "--node", "http://a:1"], "argument --listen: '::1:80'"),
        ([*PROXY, "--node", "https://a:1"], "argument --node: 'https://a:1' is not a node URL"),
        ([*PROXY, "--node", "http://a"], "argument --node: 'http://a' is not a node URL"),
        ([*PROXY, "--node", "http://a:1/api"], "argument --node: 'http://a:1/api'"),
        ([*PROXY, "--node", "a:1"], "argument --node: 'a:1' is not a node URL"),
        (
            [*PROXY, "--node", "http://a:1", "--node", "http://A:1/"],
            "argument --node: http://a:1 is given twice",
        ),
        ([*PROXY, "--node", "http://a:1", "--port", "1"], "unrecognized arguments: --port"),
    ],
)
def test_bad_proxy_config_values_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(argv, capsys)
    assert says in err
    assert "usage: rejoin-server proxy-config --listen HOST:PORT --node URL [--node URL ...]" in err
    assert err.strip().splitlines()[-1].startswith("rejoin-server proxy-config: error: ")


def test_proxy_config_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["proxy-config", "--help"], {})
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "usage: rejoin-server proxy-config --listen HOST:PORT --node URL" in text
    assert "--listen HOST:PORT" in text
    assert "--node URL" in text
    assert "HAProxy" in text


def test_the_help_lists_the_proxy_config_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"], {})
    text = capsys.readouterr().out
    assert "rejoin-server proxy-config --listen HOST:PORT --node URL [--node URL ...]" in text
    assert "  proxy-config  " in text  # in the epilog's commands


def test_proxy_config_prints_the_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*PROXY, "--node", "http://10.0.0.5:8000", "--node", "http://10.0.0.6:8001"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "    bind 0.0.0.0:80\n" in out
    assert "    server node1 10.0.0.5:8000 id 1\n" in out
    assert "    server node2 10.0.0.6:8001 id 2\n" in out
    assert out.endswith("\n")


def test_proxy_config_as_a_command_imports_no_web_or_database_library(tmp_path: Path) -> None:
    """The real command line: the configuration on stdout and exit 0, without loading the server
    (`serve`, uvicorn, SQLAlchemy); a bad node is one usage error on stderr and exit 2."""
    done = run_server_command(
        *PROXY, "--node", "http://127.0.0.1:8001", cwd=tmp_path, python_options=("-X", "importtime")
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# HAProxy")
    assert "server node1 127.0.0.1:8001 id 1" in done.stdout
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()}
    assert "rejoin_server.proxy_config" in imported
    assert "rejoin_server.serve" not in imported
    assert not imported & {"uvicorn", "starlette", "sqlalchemy", "sqlmodel", "alembic", "psycopg"}

    bad = run_server_command(*PROXY, "--node", "https://127.0.0.1:8001", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines()[-1].startswith(
        "rejoin-server proxy-config: error: argument --node: 'https://127.0.0.1:8001'"
    )


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
    done = run_server_command("--help", cwd=tmp_path, python_options=("-X", "importtime"))
    assert done.returncode == 0, done.stderr
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()}
    assert "rejoin_server.cli" in imported
    assert "rejoin_server.serve" not in imported
    assert not imported & {"uvicorn", "starlette", "sqlalchemy", "sqlmodel", "alembic", "psycopg"}


def test_the_node_id_comes_from_the_flag_or_the_environment_else_hostname_and_port() -> None:
    assert parse_args(["--node-id", "web-1"], {"REJOIN_NODE_ID": "env-1"}).settings.node == "web-1"
    assert parse_args([], {"REJOIN_NODE_ID": "env-1"}).settings.node == "env-1"
    settings = parse_args(["--port", "9001"], {}).settings
    assert settings.node_id is None
    assert settings.node == f"{socket.gethostname()}:9001"[-64:]
