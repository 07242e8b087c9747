"""Every option of every `rejoin-server` command, given a bad value, stops with one usage error
(exit 2) that names the option and says what it takes.

The table is checked against the parsers' own actions: an option added to a parser without a row
here (or a type this file derives rows for: durations, rates) fails
`test_every_option_has_a_bad_value`, so no option goes untested.
"""

from __future__ import annotations

import argparse

import pytest

from rejoin_server.cli import (
    build_migrate_parser,
    build_parser,
    build_proxy_config_parser,
    build_rekey_parser,
    build_rollback_parser,
    parse_args,
    values,
)

PARSERS = {
    "serve": build_parser,
    "migrate": build_migrate_parser,
    "proxy-config": build_proxy_config_parser,
    "rollback": build_rollback_parser,
    "rekey": build_rekey_parser,
}
# What a command needs besides the option under test, to get as far as checking it.
REQUIRED = {
    "serve": [],
    "migrate": ["migrate"],
    "proxy-config": ["proxy-config", "--listen", "0.0.0.0:80", "--node", "http://10.0.0.5:8000"],
    "rollback": ["rollback", "game-1", "4", "--reason", "misdeal"],
    "rekey": ["rekey"],
}
DURATION = "write a number and a unit, e.g. 500ms, 15s, 30m, 12h, 7d"
RATE = "write a count and a period, e.g. 30/m, 5/s, 100/10m, or off for no limit"
DATABASE = "write sqlite:///path/to/file.db or postgresql://user@host:5432/db"
# A switch takes no value: given one, argparse says it ignored it.
SWITCH = "ignored explicit argument 'yes'"

# (command, option) → (the arguments after the command's own, what the message must say).
BAD: dict[tuple[str, str], tuple[list[str], str]] = {
    ("serve", "--host"): (["--host", "web server"], "use an IP address (127.0.0.1, 0.0.0.0 for"),
    ("serve", "--port"): (["--port", "http"], "'http' is not a whole number: use from 0 to 65535"),
    ("serve", "--database-url"): (["--database-url", "mysql://db/x"], DATABASE),
    ("serve", "--node-id"): (["--node-id", "web 1"], "use 1 to 64 of A-Z a-z 0-9 . _ : -"),
    ("serve", "--cluster-database-url"): (
        ["--cluster-database-url", "sqlite:///x.db"],
        "the cluster's connections need PostgreSQL, write postgresql://user@host:5432/db",
    ),
    ("serve", "--game"): (["--game", "liars_dice"], "is not MODULE:ATTR (e.g. liars_dice:Liars"),
    ("serve", "--admin-token"): (["--admin-token", " "], "the admin token must not be empty"),
    ("serve", "--durability"): (["--durability", "eventual"], "(choose from 'strict', 'relaxed')"),
    ("serve", "--persist-fraction"): (["--persist-fraction", "2"], "use a number from 0 to 1"),
    ("serve", "--snapshot-every"): (
        ["--snapshot-every", "0"],
        "'0' is out of range: use 1 or more",
    ),
    ("serve", "--keep-snapshots"): (["--keep-snapshots", "x"], "not a whole number: use 1 or more"),
    ("serve", "--replay-limit"): (["--replay-limit", "-1"], "out of range: use 0 or more"),
    ("serve", "--no-migrate"): (["--no-migrate=yes"], SWITCH),
    ("serve", "--max-games"): (["--max-games", "0"], "out of range: use 1 or more"),
    ("serve", "--max-storage-bytes"): (["--max-storage-bytes", "1GB"], "use 1 or more"),
    ("serve", "--max-starting-stack"): (["--max-starting-stack", "0"], "use from 1 to 1000000000"),
    ("serve", "--max-events-per-game"): (["--max-events-per-game", "0"], "use 1 or more"),
    ("serve", "--max-connections"): (["--max-connections", "0"], "use 1 or more"),
    ("serve", "--trusted-proxy"): (
        ["--trusted-proxy", "proxy.local"],
        "is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)",
    ),
    ("serve", "--retire-stored-key"): (["--retire-stored-key=yes"], SWITCH),
    ("serve", "--auth-jwt-secret"): (
        ["--auth-jwt-secret", "short", "--auth-jwt-audience", "poker"],
        "--auth-jwt-secret must be at least 32 bytes",
    ),
    ("serve", "--auth-jwt-public-key"): (
        ["--auth-jwt-public-key", "/nonexistent/key.pem", "--auth-jwt-audience", "poker"],
        "give the PEM file of your identity provider's public key or certificate",
    ),
    ("serve", "--auth-jwt-audience"): (["--auth-jwt-audience", ""], "must not be empty"),
    ("serve", "--auth-jwt-issuer"): (["--auth-jwt-issuer", ""], "must not be empty"),
    ("serve", "--web-dir"): (
        ["--web-dir", "/nonexistent/web"],
        "is not a directory: give the browser bundle's folder",
    ),
    ("serve", "--log-level"): (["--log-level", "loud"], "(choose from 'critical', 'error', "),
    ("serve", "--data-key-file"): (
        ["--data-key-file", "/nonexistent/keys"],
        "--data-key-file /nonexistent/keys: cannot read it: No such file or directory",
    ),
    ("migrate", "--database-url"): (["--database-url", "rejoin.db"], DATABASE),
    ("rollback", "--reason"): (["--reason", " "], "the reason must not be blank"),
    ("rollback", "--reopen"): (["--reopen=yes"], SWITCH),
    ("rollback", "--list"): (["--list=yes"], SWITCH),
    ("rollback", "--database-url"): (["--database-url", "rejoin.db"], DATABASE),
    ("rollback", "--game"): (["--game", "liars_dice"], "is not MODULE:ATTR (e.g. liars_dice:Liars"),
    ("rollback", "--data-key-file"): (
        ["--data-key-file", "/nonexistent/keys"],
        "--data-key-file /nonexistent/keys: cannot read it: No such file or directory",
    ),
    ("rekey", "--database-url"): (["--database-url", "rejoin.db"], DATABASE),
    ("rekey", "--game"): (["--game", "liars_dice"], "is not MODULE:ATTR (e.g. liars_dice:Liars"),
    ("rekey", "--data-key-file"): (
        ["--data-key-file", "/nonexistent/keys"],
        "--data-key-file /nonexistent/keys: cannot read it: No such file or directory",
    ),
    ("rekey", "--resplit"): (["--resplit=yes"], SWITCH),
    ("rekey", "--batch-size"): (["--batch-size", "0"], "'0' is out of range: use from 1 to 100000"),
    ("proxy-config", "--listen"): (["--listen", "nohost"], "is not HOST:PORT; e.g. 0.0.0.0:80"),
    ("proxy-config", "--node"): (
        ["--node", "ftp://10.0.0.5"],
        "is not a node URL http://HOST:PORT (the scheme must be http); e.g. http://10.0.0.5:8000",
    ),
}


def options(command: str) -> list[argparse.Action]:
    """The command's options that take part in parsing (not --help)."""
    return [
        action
        for action in PARSERS[command]()._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


def derived(command: str, action: argparse.Action) -> tuple[list[str], str] | None:
    """The row of an option whose type says what a bad value of it is: a duration or a rate."""
    flag = action.option_strings[-1]
    if isinstance(action.type, values.Duration):
        return [flag, "soon"], DURATION
    if action.type is values.rate:
        return [flag, "fast"], RATE
    return None


def rows() -> list[tuple[str, str, list[str], str]]:
    table = []
    for command in PARSERS:
        for action in options(command):
            flag = action.option_strings[-1]
            row = BAD.get((command, flag)) or derived(command, action)
            if row is not None:
                table.append((command, flag, *row))
    return table


def test_every_option_has_a_bad_value() -> None:
    missing = [
        f"{command} {action.option_strings[-1]}"
        for command in PARSERS
        for action in options(command)
        if (command, action.option_strings[-1]) not in BAD and derived(command, action) is None
    ]
    assert missing == [], "add a row to BAD for each: a bad value and what the message says"
    stale = [key for key in BAD if key[1] not in {a.option_strings[-1] for a in options(key[0])}]
    assert stale == [], "rows of options that no longer exist"


@pytest.mark.parametrize(("command", "flag", "argv", "says"), rows())
def test_a_bad_value_names_the_option_and_what_it_takes(
    command: str, flag: str, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args([*REQUIRED[command], *argv], {})
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    message = lines[-1]  # argparse's usage line comes first, then the one error line
    assert message.startswith("rejoin-server"), lines
    assert flag in message, message
    assert says in message, message
