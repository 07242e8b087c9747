"""The `rejoin-server` command line (also `python -m rejoin_server`): serve, or run the migrations
alone.

It owns the parsers and their help texts, the environment variables, the checks of option values
and `main`. `parse_args(argv, env)` is a pure function from a command line and an environment to an
`Invocation` (the command and the `ServerSettings` the app is built from), so every option is
tested without a server. `main` hands the invocation to `rejoin_server.serve`, which does the I/O:
migrations, binding the port, uvicorn.

Import time is part of restart time (a kill -9 is followed by a relaunch that players are waiting
for), so this module imports only the standard library and `settings` at the top, and `serve` only
inside `main`: `--help` and a bad option never load uvicorn, Starlette or SQLAlchemy, and serving
loads them once, when needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from rejoin_server.settings import (
    DEFAULT_DATABASE_URL,
    Durability,
    Rate,
    ServerSettings,
    parse_duration_ms,
    parse_rate,
)

PROG = "rejoin-server"
Command = Literal["serve", "migrate"]

ENV_DATABASE_URL = "REJOIN_DATABASE_URL"
# Names of variables, not secrets (S105).
ENV_ADMIN_TOKEN = "REJOIN_ADMIN_TOKEN"  # noqa: S105
ENV_DURABILITY = "REJOIN_DURABILITY"
ENV_SECRET_KEYS = "REJOIN_SECRET_KEYS"  # noqa: S105
ENV_WEB_DIR = "REJOIN_WEB_DIR"
ENV_TRUSTED_PROXIES = "REJOIN_TRUSTED_PROXIES"

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
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


def _rate(text: str) -> Rate | None:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _proxy(text: str) -> str:
    """An address or a network (`10.0.0.5`, `10.0.0.0/8`, `::1`), as uvicorn's
    forwarded_allow_ips takes them."""
    import ipaddress

    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)"
        ) from None
    return text.strip()


def format_rate(rate: Rate | None) -> str:
    return "off" if rate is None else str(rate)


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
  {ENV_TRUSTED_PROXIES} as --trusted-proxy, comma-separated
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
    add(
        "--ping-interval",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"how often the server pings each WebSocket client "
        f"(default {format_duration_ms(d.ping_interval_ms)})",
    )
    add(
        "--idle-timeout",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"a WebSocket client silent this long is disconnected; it resumes from its last "
        f"seq (default {format_duration_ms(d.idle_timeout_ms)}; longer than --ping-interval)",
    )
    add(
        "--session-ttl",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"lifetime of a session token (a player's bearer token); a connected client is "
        f"sent fresh ones, and a reconnect elsewhere ends the older ones "
        f"(default {format_duration_ms(d.session_ttl_ms)})",
    )
    _add_limits(parser)
    add(
        "--web-dir",
        metavar="DIR",
        help=f"the browser bundle's folder (client_sdk/web: the demo pages, Pyodide, the SDK "
        f"wheels built by `nox -s bundle`) served at /, /play/ID, /static/, /pyodide/ and /sdk/ "
        f"(env {ENV_WEB_DIR}; default: client_sdk/web of this checkout)",
    )
    add("--log-level", choices=LOG_LEVELS, help="log level (default info)")
    return parser


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """The options of the README's "Limits and abuse"."""
    d = _DEFAULTS
    group = parser.add_argument_group(
        "limits", "bounds that keep anonymous clients from hurting the server (see the README)"
    )
    add = group.add_argument
    add(
        "--min-action-timeout",
        metavar="DURATION",
        type=_duration(positive=False),
        help=f"the shortest actionTimeoutMs a new table may ask for "
        f"(default {format_duration_ms(d.min_action_timeout_ms)})",
    )
    add(
        "--min-next-hand-delay",
        metavar="DURATION",
        type=_duration(positive=False),
        help=f"the shortest nextHandDelayMs a new table may ask for "
        f"(default {format_duration_ms(d.min_next_hand_delay_ms)})",
    )
    add(
        "--max-starting-stack",
        metavar="CHIPS",
        type=_integer(1, 1_000_000_000),
        help=f"the largest startingStack a new table may ask for (default {d.max_starting_stack})",
    )
    add(
        "--unattended-after",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"a table where no seated player has acted or been connected for this long deals "
        f"no new hand until one is back "
        f"(default {format_duration_ms(d.unattended_after_ms)})",
    )
    add(
        "--max-events-per-game",
        metavar="N",
        type=_integer(1),
        help=f"a game is completed once it has this many events (default {d.max_events_per_game})",
    )
    add(
        "--max-connections",
        metavar="N",
        type=_integer(1),
        help=f"most connections open at once; more are refused at once with 503 (default "
        f"{d.max_connections}, lowered to what the open-file limit allows)",
    )
    add(
        "--header-timeout",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"a request's headers must arrive within this (default "
        f"{format_duration_ms(d.header_timeout_ms)})",
    )
    add(
        "--body-timeout",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"a request's body must arrive within this once its headers have (default "
        f"{format_duration_ms(d.body_timeout_ms)})",
    )
    add(
        "--keep-alive-timeout",
        metavar="DURATION",
        type=_duration(positive=True),
        help=f"an idle keep-alive connection is closed after this (default "
        f"{format_duration_ms(d.keep_alive_timeout_ms)})",
    )
    for flag, field, what in _RATE_OPTIONS:
        add(
            flag,
            metavar="RATE",
            type=_rate,
            # Absent unless given: `off` parses to None, which must not read as "not given".
            default=argparse.SUPPRESS,
            help=f"{what} (default {format_rate(getattr(d, field))}; e.g. 30/m, 5/s; off: none)",
        )
    add(
        "--trusted-proxy",
        metavar="ADDRESS",
        type=_proxy,
        action="append",
        help=f"a proxy (address or network) whose X-Forwarded-For names the client, for rate "
        f"limits and /metrics; repeatable (env {ENV_TRUSTED_PROXIES}; default: none, the "
        f"connection's own address counts)",
    )
    add(
        "--retire-stored-key",
        action="store_true",
        help=f"with {ENV_SECRET_KEYS} set, the signing key the server once generated and "
        "stored in the database stops verifying at once (default: after the longest token "
        "lifetime)",
    )


# (flag, ServerSettings field, what it limits): 429 `rate_limited` with Retry-After beyond it.
_RATE_OPTIONS = (
    ("--rate-create", "rate_create", "games created per client address"),
    ("--rate-join", "rate_join", "joins per client address"),
    ("--rate-token", "rate_token", "connection tokens fetched per player"),
    ("--rate-force-persist", "rate_force_persist", "persists with forceOverwrite per caller"),
    (
        "--rate-connect",
        "rate_connect",
        "resumes per player (WebSocket hello, POST reconnect), counted when they win the seat",
    ),
    (
        "--rate-connect-address",
        "rate_connect_address",
        "WebSocket connections and POST reconnects per address",
    ),
)


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


def _trusted_proxies(
    parser: argparse.ArgumentParser, given: list[str] | None, env: Mapping[str, str]
) -> tuple[str, ...]:
    if given:
        return tuple(given)
    text = env.get(ENV_TRUSTED_PROXIES, "")
    found = []
    for part in text.split(","):
        if part.strip():
            try:
                found.append(_proxy(part))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"{ENV_TRUSTED_PROXIES}: {exc}")
    return tuple(found)


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
            ping_interval_ms=_given(ns.ping_interval, d.ping_interval_ms),
            idle_timeout_ms=_given(ns.idle_timeout, d.idle_timeout_ms),
            session_ttl_ms=_given(ns.session_ttl, d.session_ttl_ms),
            min_action_timeout_ms=_given(ns.min_action_timeout, d.min_action_timeout_ms),
            min_next_hand_delay_ms=_given(ns.min_next_hand_delay, d.min_next_hand_delay_ms),
            max_starting_stack=_given(ns.max_starting_stack, d.max_starting_stack),
            unattended_after_ms=_given(ns.unattended_after, d.unattended_after_ms),
            max_events_per_game=_given(ns.max_events_per_game, d.max_events_per_game),
            max_connections=_given(ns.max_connections, d.max_connections),
            header_timeout_ms=_given(ns.header_timeout, d.header_timeout_ms),
            body_timeout_ms=_given(ns.body_timeout, d.body_timeout_ms),
            keep_alive_timeout_ms=_given(ns.keep_alive_timeout, d.keep_alive_timeout_ms),
            **{field: getattr(ns, field, getattr(d, field)) for _, field, _ in _RATE_OPTIONS},
            trusted_proxies=_trusted_proxies(parser, ns.trusted_proxy, env),
            retire_stored_key=ns.retire_stored_key,
            web_dir=ns.web_dir or env.get(ENV_WEB_DIR) or None,
            host=_given(ns.host, d.host),
            port=_given(ns.port, d.port),
        )
    except ValueError as exc:  # ServerSettings' own checks; the option types catch these first
        parser.error(str(exc))
    return Invocation("serve", settings, ns.log_level or "info", given_by)


# --- main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Exit status: 0 (also after SIGTERM, once shut down gracefully), 2 for
    a usage error or a database that cannot be opened (one line on stderr, no traceback), 3 when
    the app fails to start (uvicorn's), 130 on Ctrl+C."""
    invocation = parse_args(sys.argv[1:] if argv is None else argv, os.environ)
    # Only now, with something to run: `--help` and usage errors never import `serve`.
    from rejoin_server.serve import StartupError, run_migrate, serve

    try:
        if invocation.command == "migrate":
            return run_migrate(invocation, sys.stdout)
        return serve(invocation, sys.stdout)
    except StartupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
