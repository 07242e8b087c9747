"""deploy/systemd/rejoin.service is a unit systemd accepts, that runs the server as the docs say.

`systemd-analyze verify` checks the unit as systemd reads it (its keys, their values, the
executable); the unit's own `ExecStart` names where a deployment installs the server, so it runs
on a copy pointing at this environment's `rejoin-server`. The rest is checked against the server
itself: the command line goes through the real parser, every variable of the example environment
file is one the server reads, and the limits fit the flags.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rejoin_server.cli import parse_args, parsers

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "rejoin.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "rejoin.env.example"
# The graceful shutdown gives open requests this long (docs/operations.md, "Stopping").
GRACEFUL_S = 10


def unit_entries(text: str) -> dict[str, list[tuple[str, str]]]:
    """`[Section]` → its `Key=value` lines in order (a key may come more than once)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"a line outside any section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not a Key=value line: {raw!r}"
        current.append((key.strip(), value.strip()))
    return sections


def service() -> dict[str, str]:
    """The [Service] section's keys (the last value of a repeated key)."""
    return dict(unit_entries(UNIT.read_text())["Service"])


def example_env() -> dict[str, str]:
    pairs = [
        line.partition("=")
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return {name.strip(): value.strip() for name, _, value in pairs}


def commented_env_names() -> set[str]:
    """The variables the example shows commented out (alternatives a deployment may set)."""
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        body = line.lstrip("#").strip()
        if line.startswith("#") and body.startswith("REJOIN_") and "=" in body:
            names.add(body.partition("=")[0])
    return names


def seconds(value: str) -> float:
    """A systemd time span as this unit writes them: `100ms`, `30s`, `0`."""
    for unit, factor in (("ms", 0.001), ("s", 1.0)):
        if value.endswith(unit):
            return float(value.removesuffix(unit)) * factor
    return float(value)


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, (
        "systemd-analyze is missing: install Debian's systemd (apt-get install -y systemd); "
        ".ci/run does"
    )
    server = shutil.which("rejoin-server", path=str(Path(sys.executable).parent))
    assert server is not None, f"no rejoin-server beside {sys.executable}: pip install -e server"
    argv = shlex.split(service()["ExecStart"])
    copy = tmp_path / "rejoin.service"
    copy.write_text(UNIT.read_text().replace(argv[0], server))
    verified = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stderr.strip() == "", verified.stderr  # not even a warning


def test_the_command_line_is_the_servers_and_parses() -> None:
    argv = shlex.split(service()["ExecStart"])
    assert Path(argv[0]).name == "rejoin-server"
    invocation = parse_args(argv[1:], example_env())
    assert invocation.command == "serve"
    settings = invocation.settings
    assert (settings.host, settings.port, settings.max_connections) == ("127.0.0.1", 8000, 10_000)
    # The secrets come from the environment file, never the command line (anyone can read it).
    assert invocation.admin_token_from == "REJOIN_ADMIN_TOKEN"
    assert settings.secret_keys == ("replace-with-a-long-random-key",)
    assert not any(flag.startswith(("--admin-token", "--auth-jwt-secret")) for flag in argv)


def test_every_variable_of_the_example_is_one_the_server_reads() -> None:
    read = {value for name, value in vars(parsers).items() if name.startswith("ENV_")}
    given = set(example_env())
    assert {"REJOIN_DATABASE_URL", "REJOIN_ADMIN_TOKEN", "REJOIN_SECRET_KEYS"} <= given
    assert given | commented_env_names() <= read


def test_it_restarts_at_once_and_stops_gracefully() -> None:
    unit = service()
    assert unit["Restart"] == "always"
    assert seconds(unit["RestartSec"]) <= 0.1
    assert unit["KillSignal"] == "SIGTERM"
    assert seconds(unit["TimeoutStopSec"]) > GRACEFUL_S  # the drain ends before SIGKILL
    assert unit["EnvironmentFile"] == "/etc/rejoin/rejoin.env"


@pytest.mark.parametrize("key", ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"])
def test_it_is_hardened(key: str) -> None:
    assert service()[key] == "yes"


def test_it_runs_as_its_own_user_and_writes_only_its_state_directory() -> None:
    unit = service()
    assert unit["User"] == unit["Group"] == "rejoin"
    assert unit["ProtectSystem"] == "strict"
    database = example_env()["REJOIN_DATABASE_URL"]
    sqlite_dir = str(Path(database.removeprefix("sqlite:///")).parent)
    assert sqlite_dir == "/var/lib/rejoin" == unit["ReadWritePaths"]
    assert unit["StateDirectory"] == "rejoin"


def test_its_open_file_limit_leaves_room_for_every_connection() -> None:
    invocation = parse_args(shlex.split(service()["ExecStart"])[1:], example_env())
    # The server lowers --max-connections to what the limit allows: leave room for the rest.
    assert int(service()["LimitNOFILE"]) >= invocation.settings.max_connections + 1000
