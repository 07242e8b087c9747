"""The `rejoin-server` command (also `python -m rejoin_server`): serve, or run the migrations alone.

`parse_args(argv, env)` is a pure function from a command line and an environment to an
`Invocation` (the command and the `ServerSettings` the app is built from), so every option is
tested without a server. `main` does the I/O: migrations, binding the port, uvicorn.

Import time is part of restart time (a kill -9 is followed by a relaunch that players are waiting
for), so this module imports only the standard library and `settings` at the top: `--help` and a
bad option never load uvicorn, Starlette or SQLAlchemy, and serving loads them once, when needed.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, NoReturn, TextIO, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from rejoin_server.settings import (
    DEFAULT_DATABASE_URL,
    Durability,
    ServerSettings,
    parse_duration_ms,
)

if TYPE_CHECKING:
    import socket
    from types import FrameType

    from starlette.applications import Starlette

PROG = "rejoin-server"
Command = Literal["serve", "migrate"]

ENV_DATABASE_URL = "REJOIN_DATABASE_URL"
# Names of variables, not secrets (S105).
ENV_ADMIN_TOKEN = "REJOIN_ADMIN_TOKEN"  # noqa: S105
ENV_DURABILITY = "REJOIN_DURABILITY"
ENV_SECRET_KEYS = "REJOIN_SECRET_KEYS"  # noqa: S105

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# Seconds uvicorn waits, after SIGTERM, for open connections and tasks before cancelling them.
# Open requests get this long to finish; event streams are ended at once (see run_uvicorn).
GRACEFUL_SHUTDOWN_S = 10
# Connections that arrive while the server loads and starts wait in this queue instead of being
# refused: after a restart, clients dial again within 100 ms and should not be turned away.
LISTEN_BACKLOG = 2048
# Exit status of a usage error (argparse's) and of a database that cannot be opened.
EXIT_USAGE = 2

_DEFAULTS = ServerSettings()
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Invocation:
    """What the command line asks for. `admin_token_from` names where the admin token came from
    (`--admin-token` or `REJOIN_ADMIN_TOKEN`); None: none was given and `serve` generates one."""

    command: Command
    settings: ServerSettings
    log_level: str = "info"
    admin_token_from: str | None = None


class StartupError(Exception):
    """A reason to stop before serving that the operator can fix; shown as one line, exit 2."""


# --- option values ----------------------------------------------------------------------------


def format_duration_ms(ms: int) -> str:
    """The inverse of `parse_duration_ms` for help texts: 1800000 → "30m"."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _duration(*, positive: bool) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            ms = parse_duration_ms(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if positive and ms <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
        return ms

    return parse


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: use {bound}")
        return value

    return parse


_SCHEMES = ("sqlite", "postgresql", "postgres")


def _database_url(text: str) -> str:
    """Only the scheme is checked here (without SQLAlchemy, which `--help` must not import);
    whether the database opens is found out at start."""
    scheme, sep, _ = text.partition("://")
    if not sep or scheme.partition("+")[0].lower() not in _SCHEMES:
        raise argparse.ArgumentTypeError(
            f"{mask_url(text)!r} is not a database URL rejoin can use: write "
            "sqlite:///path/to/file.db or postgresql://user@host:5432/db"
        )
    return text


def _admin_token(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the admin token must not be empty")
    return text


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or a `password=` parameter) replaced by ***,
    for printing; the rest is left exactly as written. A URL that does not parse is shown up to
    its scheme only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.partition(":")[0] + ":…"
    masked = url
    userinfo, at, hostinfo = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.partition(":")[0]
        masked = masked.replace(parts.netloc, f"{user}:***@{hostinfo}", 1)
    if "password=" in parts.query:
        query = [
            (key, "***" if key == "password" else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        masked = masked.replace(f"?{parts.query}", f"?{urlencode(query, safe='*')}", 1)
    return masked


# --- parsers ----------------------------------------------------------------------------------


_EPILOG = f"""\
commands:
  serve (the default)   run the server with the options above
  migrate               run the database migrations alone, print the revision and exit:
                        {PROG} migrate [--database-url URL]

environment:
  {ENV_DATABASE_URL}   as --database-url
  {ENV_ADMIN_TOKEN}    as --admin-token (better than the flag: a command line is visible in ps)
  {ENV_DURABILITY}     as --durability
  {ENV_SECRET_KEYS}    keys that sign reconnect tokens, comma-separated, newest first; tokens
                        signed with an older key still verify, so rotate by putting a new key
                        first and dropping the oldest once its tokens have expired. Unset: a key
                        is generated once and kept in the database. There is no flag for it.
A flag beats its environment variable. Durations: 500ms, 15s, 30m, 12h, 7d (a bare number is
seconds). SIGTERM shuts down gracefully; nothing committed is lost even to SIGKILL.
"""


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        type=_database_url,
        help=f"sqlite:///path/to/file.db or postgresql://user:password@host:5432/db "
        f"(env {ENV_DATABASE_URL}; default {DEFAULT_DATABASE_URL})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of `rejoin-server [serve] [options]`. Every default shown comes from
    `ServerSettings`; None means the option was not given (its env variable or default applies)."""
    d = _DEFAULTS
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [serve] [options]\n       {PROG} migrate [--database-url URL]",
        description="The rejoin game server: games written ahead to SQLite or PostgreSQL, "
        "that survive kill -9.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--host", help=f"address to listen on (default {d.host}; 0.0.0.0 for every interface)")
    add(
        "--port",
        type=_integer(0, 65535),
        help=f"port to listen on (default {d.port}; 0 picks a free one)",
    )
    _add_database_url(parser)
    add(
        "--admin-token",
        metavar="TOKEN",
        type=_admin_token,
        help=f"bearer token of the operator (env {ENV_ADMIN_TOKEN}; default: a random one, "
        "printed at start)",
    )
    add(
        "--durability",
        choices=("strict", "relaxed"),
        help=f"strict: an action is committed before anyone sees it; relaxed: written behind, "
        f"may lose the last few ms on a crash (env {ENV_DURABILITY}; default {d.durability})",
    )
    add(
        "--token-ttl",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"lifetime of a reconnect token (default {format_duration_ms(d.token_ttl_ms)})",
    )
    add(
        "--snapshot-every",
        metavar="N",
        type=_integer(1),
        help=f"events between snapshots of a game; hand ends always snapshot "
        f"(default {d.snapshot_every})",
    )
    add(
        "--keep-snapshots",
        metavar="K",
        type=_integer(1),
        help=f"snapshots kept per game, the newest (default {d.keep_snapshots})",
    )
    add(
        "--replay-limit",
        metavar="N",
        type=_integer(0),
        help=f"most missed events replayed on reconnect; beyond it the client gets the fresh "
        f"state instead (default {d.replay_limit})",
    )
    add(
        "--no-migrate",
        action="store_true",
        help="do not run the database migrations at start; the database must already be at the "
        f"current revision (see `{PROG} migrate`) (default: migrate)",
    )
    add(
        "--cleanup-interval",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"how often the cleanup runs: expired tokens, abandoned and expired games, the "
        f"storage quota "
        f"(default {format_duration_ms(d.cleanup_interval_ms)})",
    )
    add(
        "--retention",
        metavar="DURATION",
        type=_duration(positive=False),
        help=f"how long completed games are kept before they are deleted "
        f"(default {format_duration_ms(d.retention_ms)})",
    )
    add(
        "--abandon-after",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"a game with no player action for this long is completed "
        f"(default {format_duration_ms(d.abandon_after_ms)})",
    )
    add(
        "--max-games",
        metavar="N",
        type=_integer(1),
        help="most games stored; beyond it the oldest completed games are deleted, never one in "
        "play (default: no limit)",
    )
    add(
        "--max-storage-bytes",
        metavar="BYTES",
        type=_integer(1),
        help="most bytes of stored events and snapshots; beyond it the oldest completed games are "
        "deleted, never one in play (default: no limit)",
    )
    add("--log-level", choices=LOG_LEVELS, help="log level (default info)")
    return parser


def build_migrate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} migrate",
        description="Run the database migrations alone (the server runs them at start unless "
        "--no-migrate), print the revision and exit.",
    )
    _add_database_url(parser)
    return parser


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _from_env(
    parser: argparse.ArgumentParser,
    env: Mapping[str, str],
    name: str,
    check: Callable[[str], str],
) -> str | None:
    """An environment variable, checked like its flag; an empty one counts as unset."""
    text = env.get(name, "")
    if not text:
        return None
    try:
        return check(text)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"{name}: {exc}")


def _durability(text: str) -> str:
    if text not in ("strict", "relaxed"):
        raise argparse.ArgumentTypeError(f"{text!r} is not strict or relaxed")
    return text


def _secret_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(key.strip() for key in env.get(ENV_SECRET_KEYS, "").split(",") if key.strip())


def parse_args(argv: Sequence[str], env: Mapping[str, str]) -> Invocation:
    """The command line (without the program name) and environment → what to run, with what
    settings. Flags beat environment variables, which beat the defaults of `ServerSettings`.
    A bad value exits with argparse's usage error (status 2) naming the option or variable."""
    args = list(argv)
    if args[:1] == ["migrate"]:
        parser = build_migrate_parser()
        ns = parser.parse_args(args[1:])
        url = ns.database_url or _from_env(parser, env, ENV_DATABASE_URL, _database_url)
        settings = ServerSettings(database_url=url or DEFAULT_DATABASE_URL)
        return Invocation("migrate", settings)

    if args[:1] == ["serve"]:
        args = args[1:]
    parser = build_parser()
    ns = parser.parse_args(args)
    d = _DEFAULTS
    url = ns.database_url or _from_env(parser, env, ENV_DATABASE_URL, _database_url)
    admin_token = ns.admin_token
    given_by = "--admin-token" if admin_token is not None else None
    if admin_token is None:
        admin_token = _from_env(parser, env, ENV_ADMIN_TOKEN, _admin_token)
        given_by = ENV_ADMIN_TOKEN if admin_token is not None else None
    durability = ns.durability or _from_env(parser, env, ENV_DURABILITY, _durability)
    try:
        settings = ServerSettings(
            database_url=url or DEFAULT_DATABASE_URL,
            admin_token=admin_token,
            secret_keys=_secret_keys(env),
            durability=cast(Durability, durability or d.durability),
            token_ttl_ms=_given(ns.token_ttl, d.token_ttl_ms),
            snapshot_every=_given(ns.snapshot_every, d.snapshot_every),
            keep_snapshots=_given(ns.keep_snapshots, d.keep_snapshots),
            replay_limit=_given(ns.replay_limit, d.replay_limit),
            migrate=not ns.no_migrate,
            cleanup_interval_ms=_given(ns.cleanup_interval, d.cleanup_interval_ms),
            retention_ms=_given(ns.retention, d.retention_ms),
            abandon_after_ms=_given(ns.abandon_after, d.abandon_after_ms),
            max_games=ns.max_games,
            max_storage_bytes=ns.max_storage_bytes,
            host=_given(ns.host, d.host),
            port=_given(ns.port, d.port),
        )
    except ValueError as exc:  # ServerSettings' own checks; the option types catch these first
        parser.error(str(exc))
    return Invocation("serve", settings, ns.log_level or "info", given_by)


# --- running ----------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    problem = getattr(exc, "problem", None)  # StorageUnavailable keeps the driver's words apart
    if not isinstance(problem, str):
        problem = str(getattr(exc, "orig", None) or exc)
    return " ".join(problem.split())


def _is_database_error(exc: BaseException) -> bool:
    """Errors that mean "this database cannot be opened", as opposed to a bug."""
    import sqlite3

    import psycopg
    from sqlalchemy import exc as sa_exc

    from rejoin_server.errors import StorageUnavailable

    return isinstance(
        exc,
        StorageUnavailable
        | sa_exc.DBAPIError
        | sa_exc.ArgumentError
        | sqlite3.Error
        | psycopg.Error
        | OSError,
    )


def prepare_database(url: str, *, migrate: bool) -> str | None:
    """Migrate the database at `url` unless it is current (the common restart: one cheap query,
    no Alembic import). Returns the revision it migrated to, None if it was already current.
    With `migrate=False`, a database that is not current is an error: the server would fail on
    its first query instead. Raises `StartupError` when the database cannot be opened."""
    from rejoin_server.store import migrate as migrations

    try:
        if migrations.is_current(url):
            return None
        if migrate:
            migrations.upgrade(url)
            return migrations.HEAD_REVISION
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        raise StartupError(f"cannot open the database {mask_url(url)}: {_one_line(exc)}") from None
    raise StartupError(
        f"the database {mask_url(url)} is not at schema revision {migrations.HEAD_REVISION} "
        f"(it is new or older): run `{PROG} migrate` first, or start without --no-migrate"
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Bound before the app starts, so the port accepts (and queues)
    connections at once and `--port 0` can print the port it got."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns on TCP_NODELAY only for sockets whose `proto` says
    # TCP, and accepted sockets inherit it. With proto 0 every answer's body waited ~40 ms for the
    # client's delayed ACK (measured: /healthz 44 ms against 0.6 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _configure_logging(level: str) -> None:
    """uvicorn configures its own loggers; the server's go to stderr at the same level. Only
    `rejoin_server`: the root logger at INFO would make SQLAlchemy log every statement."""
    import logging

    logger = logging.getLogger("rejoin_server")
    logger.setLevel(logging.DEBUG if level == "trace" else level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


_SESSION_IN_QUERY = re.compile(r"([?&]session=)[^&\s]*")


def _mask_session_in_access_log(record: logging.LogRecord) -> bool:
    """`GET …/events?session=…` carries a bearer token in the URL (EventSource cannot send
    headers): keep it out of the access log."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            _SESSION_IN_QUERY.sub(r"\1***", arg) if isinstance(arg, str) else arg
            for arg in record.args
        )
    return True


class _Terminated(BaseException):
    """SIGTERM, once uvicorn has shut down gracefully (see `run_uvicorn`)."""


def _terminated(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated


def run_uvicorn(app: Starlette, sock: socket.socket, log_level: str) -> None:
    """Serve until SIGTERM or SIGINT; uvicorn then stops accepting, ends event streams,
    waits up to GRACEFUL_SHUTDOWN_S and runs the app's lifespan shutdown (which flushes writes).

    Afterwards uvicorn re-raises the signal under the handler that was there before it. For
    SIGTERM that handler is ours and only ends `run`: a completed graceful shutdown exits 0, not
    by the signal (which `nox -s serve` and some supervisors report as a failure)."""
    import asyncio
    import contextlib
    import signal

    import uvicorn

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn waits for open connections before the lifespan shutdown; event streams
            # never end by themselves, so end them now.
            services = getattr(app.state, "services", None)
            if services is not None:
                with contextlib.suppress(RuntimeError):
                    asyncio.get_running_loop().call_soon_threadsafe(services.host.begin_shutdown)

    # After uvicorn.Config, which sets up uvicorn's loggers.
    logging.getLogger("uvicorn.access").addFilter(_mask_session_in_access_log)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        Server(config).run(sockets=[sock])
    except _Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(invocation: Invocation, out: TextIO) -> int:
    """Migrate (or check), build the app, print where it listens and the admin token, and serve
    until SIGTERM. The port is bound first: while the database is checked and the app's modules
    load (most of a restart), reconnecting clients wait in the listen queue instead of being
    refused and backing off."""
    settings = invocation.settings
    sock = bind(settings.host, settings.port)
    try:
        prepare_database(settings.database_url, migrate=settings.migrate)
        if settings.admin_token is None:
            import secrets

            settings = replace(settings, admin_token=secrets.token_urlsafe(24))
        # The migrations have run (or been checked), so the app does not run them; and it is
        # told the port it really has (`--port 0`).
        settings = replace(settings, migrate=False, port=sock.getsockname()[1])

        from rejoin_server.app import create_app

        app = create_app(settings)
    except BaseException:
        sock.close()
        raise
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    token = (
        f"(given by {invocation.admin_token_from})"
        if invocation.admin_token_from
        else settings.admin_token
    )
    print(
        f"{PROG} listening on http://{host}:{settings.port} "
        f"(database: {mask_url(settings.database_url)})",
        file=out,
        flush=True,
    )
    print(f"admin token: {token}", file=out, flush=True)
    _configure_logging(invocation.log_level)
    run_uvicorn(app, sock, invocation.log_level)
    return 0


def run_migrate(invocation: Invocation, out: TextIO) -> int:
    url = invocation.settings.database_url
    from rejoin_server.store.migrate import HEAD_REVISION

    migrated = prepare_database(url, migrate=True)
    state = "migrated to" if migrated else "already at"
    print(f"database {mask_url(url)} {state} revision {HEAD_REVISION}", file=out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Exit status: 0 (also after SIGTERM, once shut down gracefully), 2 for
    a usage error or a database that cannot be opened (one line on stderr, no traceback), 3 when
    the app fails to start (uvicorn's), 130 on Ctrl+C."""
    invocation = parse_args(sys.argv[1:] if argv is None else argv, os.environ)
    try:
        if invocation.command == "migrate":
            return run_migrate(invocation, sys.stdout)
        return serve(invocation, sys.stdout)
    except StartupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
