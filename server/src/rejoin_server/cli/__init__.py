"""The `rejoin-server` command line (also `python -m rejoin_server`): serve, run the migrations
alone, print the HAProxy configuration of a cluster (`proxy-config`), or roll a game back with
the server stopped (`rollback`).

The package owns the parsers and their help texts (`parsers`), the checks of option values
(`values`), the environment variables and `parse_args(argv, env)` (`args`): a pure function from a
command line and an environment to an `Invocation` (the command and the `ServerSettings` the app is
built from), so every option is tested without a server. `main` hands the invocation to
`rejoin_server.serve`, which does the I/O: migrations, binding the port, uvicorn. The dependency
runs one way: `cli` → `serve` → `invocation` (what both share), never back.

Import time is part of restart time (a kill -9 is followed by a relaunch that players are waiting
for), so this package imports only the standard library, `settings`, `invocation` and
`proxy_config` (the standard library alone) at the top, and `serve` only inside `main`: `--help`, a
bad option and `proxy-config` never load uvicorn, Starlette or SQLAlchemy, and serving loads them
once, when needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from rejoin_server.cli.args import parse_args
from rejoin_server.cli.parsers import (
    build_migrate_parser,
    build_parser,
    build_proxy_config_parser,
    build_rekey_parser,
)
from rejoin_server.cli.rollback_parser import build_rollback_parser
from rejoin_server.invocation import EXIT_USAGE, PROG, Invocation, mask_url
from rejoin_server.proxy_config import haproxy_config

__all__ = [
    "Invocation",
    "build_migrate_parser",
    "build_parser",
    "build_proxy_config_parser",
    "build_rekey_parser",
    "build_rollback_parser",
    "main",
    "mask_url",
    "parse_args",
]


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Exit status: 0 (also after SIGTERM, once shut down gracefully, and
    once `proxy-config` has printed its configuration), 2 for a usage error or another problem at
    start that the operator must fix, 4 for a database that cannot be opened (it may be down for
    a moment: a supervisor tries again), each one line on stderr and no traceback; 3 when the
    app fails to start (uvicorn's), 130 on Ctrl+C."""
    invocation = parse_args(sys.argv[1:] if argv is None else argv, os.environ)
    if invocation.command == "proxy-config":
        return _print_proxy_config(invocation)
    # Only now, with something to run: `--help` and usage errors never import `serve`.
    from rejoin_server.serve import StartupError, run_migrate, serve

    try:
        return _run(invocation, run_migrate, serve)
    except StartupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except KeyboardInterrupt:
        return 130


def _run(
    invocation: Invocation,
    run_migrate: Callable[[Invocation, TextIO], int],
    serve: Callable[[Invocation, TextIO], int],
) -> int:
    """The command's exit status; the offline commands are imported only when they run."""
    if invocation.command == "migrate":
        return run_migrate(invocation, sys.stdout)
    if invocation.command == "rollback":
        from rejoin_server.offline_rollback import run_rollback

        return run_rollback(invocation, sys.stdout)
    if invocation.command == "rekey":
        from rejoin_server.rekey_command import run_rekey

        return run_rekey(invocation, sys.stdout, sys.stderr)
    return serve(invocation, sys.stdout)


def _print_proxy_config(invocation: Invocation) -> int:
    """`proxy-config`: the configuration on stdout; no server, no database. The parser checked
    every value, so a ValueError here would be a bug in one of the two: shown as a usage error
    all the same, one line and no traceback."""
    assert invocation.proxy_listen is not None
    try:
        text = haproxy_config(invocation.proxy_listen, invocation.proxy_nodes)
    except ValueError as exc:
        print(f"{PROG} proxy-config: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
