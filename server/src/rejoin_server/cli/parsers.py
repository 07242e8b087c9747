"""The parsers of `rejoin-server`: every option with its help text, the environment variables
they can come from, and the epilog that lists them.

Every default a help text shows comes from `ServerSettings`; the options themselves default to
None ("not given"), so that `args.parse_args` can tell a flag from its environment variable.

Longer than 400 lines: every option with its help text, read top to bottom like `--help` and
docs/operations.md's tables; split, the options would be in pieces.
"""

from __future__ import annotations

import argparse

from rejoin_server.cli import values
from rejoin_server.cli.datakeys import ENV_DATA_KEY_FILE, ENV_DATA_KEYS, add_data_key_option
from rejoin_server.cli.login import (
    ENV_AUTH_JWT_AUDIENCE,
    ENV_AUTH_JWT_ISSUER,
    ENV_AUTH_JWT_PUBLIC_KEY,
    ENV_AUTH_JWT_SECRET,
    add_login_options,
)
from rejoin_server.invocation import PROG
from rejoin_server.settings import DEFAULT_DATABASE_URL, ServerSettings

ENV_DATABASE_URL = "REJOIN_DATABASE_URL"
# Names of variables, not secrets (S105).
ENV_ADMIN_TOKEN = "REJOIN_ADMIN_TOKEN"  # noqa: S105
ENV_DURABILITY = "REJOIN_DURABILITY"
ENV_PERSIST_FRACTION = "REJOIN_PERSIST_FRACTION"
ENV_SECRET_KEYS = "REJOIN_SECRET_KEYS"  # noqa: S105
ENV_WEB_DIR = "REJOIN_WEB_DIR"
ENV_TRUSTED_PROXIES = "REJOIN_TRUSTED_PROXIES"
ENV_NODE_ID = "REJOIN_NODE_ID"
ENV_CLUSTER_DATABASE_URL = "REJOIN_CLUSTER_DATABASE_URL"
ENV_GAMES = "REJOIN_GAMES"

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")

_DEFAULTS = ServerSettings()

EPILOG = f"""\
commands:
  serve (the default)   run the server with the options above
  migrate               run the database migrations alone, print the revision and exit:
                        {PROG} migrate [--database-url URL]
  proxy-config          print the HAProxy configuration of a cluster of nodes:
                        {PROG} proxy-config --listen HOST:PORT --node URL [--node URL ...]
  rollback              roll a game back to a kept snapshot with the server stopped:
                        {PROG} rollback GAME VERSION --reason TEXT [--reopen]
                        {PROG} rollback GAME --list   (the versions kept)
  rekey                 re-encrypt private game data under the newest data key, while servers
                        run, then retire the older keys: {PROG} rekey [--database-url URL]
                        [--game MODULE:ATTR ...] [--data-key-file PATH] [--batch-size N]
                        [--resplit]

environment:
  {ENV_DATABASE_URL}   as --database-url
  {ENV_ADMIN_TOKEN}    as --admin-token (better than the flag: a command line is visible in ps)
  {ENV_DURABILITY}     as --durability
  {ENV_PERSIST_FRACTION} as --persist-fraction
  {ENV_TRUSTED_PROXIES} as --trusted-proxy, comma-separated
  {ENV_NODE_ID}       as --node-id
  {ENV_CLUSTER_DATABASE_URL} as --cluster-database-url
  {ENV_GAMES}         as --game, comma-separated
  {ENV_SECRET_KEYS}    keys that sign reconnect tokens, comma-separated, newest first, each
                        16 characters or more; tokens signed with an older key still verify,
                        so rotate by putting a new key first and dropping the oldest once its
                        tokens have expired. Unset: a key is generated once and kept in the
                        database. There is no flag for it.
  {ENV_DATA_KEYS}     keys that encrypt private game data (hole cards) in the database,
                        comma-separated, newest first, each 32 random bytes in URL-safe base64
                        (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'). The
                        newest encrypts, older ones still decrypt; `{PROG} rekey` moves old
                        rows to the newest. Unset (and no --data-key-file): stored in the clear.
  {ENV_DATA_KEY_FILE} as --data-key-file
  {ENV_AUTH_JWT_SECRET} as --auth-jwt-secret (better than the flag: visible in ps)
  {ENV_AUTH_JWT_PUBLIC_KEY} as --auth-jwt-public-key: a file, or the PEM text itself
  {ENV_AUTH_JWT_AUDIENCE} as --auth-jwt-audience
  {ENV_AUTH_JWT_ISSUER} as --auth-jwt-issuer
A flag beats its environment variable. Durations: 500ms, 15s, 30m, 12h, 7d (a bare number is
seconds). SIGTERM shuts down gracefully; nothing committed is lost even to SIGKILL.
"""


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        type=values.database_url,
        help=f"sqlite:///path/to/file.db or postgresql://user:password@host:5432/db "
        f"(env {ENV_DATABASE_URL}; default {DEFAULT_DATABASE_URL})",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of `rejoin-server [serve] [options]`. Every default shown comes from
    `ServerSettings`; None means the option was not given (its env variable or default applies)."""
    d = _DEFAULTS
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [serve] [options]\n       {PROG} migrate [--database-url URL]\n"
        f"       {PROG} proxy-config --listen HOST:PORT --node URL [--node URL ...]\n"
        f"       {PROG} rekey [--database-url URL] [--game MODULE:ATTR] [--batch-size N]",
        description="The rejoin game server: games written ahead to SQLite or PostgreSQL, "
        "that survive kill -9.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--host",
        type=values.listen_host,
        help=f"address to listen on (default {d.host}; 0.0.0.0 for every interface)",
    )
    add(
        "--port",
        type=values.integer(0, 65535),
        help=f"port to listen on (default {d.port}; 0 picks a free one)",
    )
    _add_database_url(parser)
    add(
        "--node-id",
        metavar="ID",
        type=values.node_id,
        help="this node's name, in every answer's X-Rejoin-Node header and in /healthz "
        f"(env {ENV_NODE_ID}; default hostname:port)",
    )
    add(
        "--cluster-database-url",
        metavar="URL",
        type=values.cluster_database_url,
        help="a direct PostgreSQL URL (no transaction-mode pooler) for the cluster's liveness "
        "and handover connections, when --database-url goes through PgBouncer or another "
        f"pooler (env {ENV_CLUSTER_DATABASE_URL}; default --database-url)",
    )
    _add_game(parser)
    add_data_key_option(parser)
    add(
        "--admin-token",
        metavar="TOKEN",
        type=values.admin_token,
        help=f"bearer token of the operator, 16 characters or more (env {ENV_ADMIN_TOKEN}; "
        "default: a random one, printed at start)",
    )
    add(
        "--durability",
        choices=("strict", "relaxed"),
        help=f"strict: an action is committed before anyone sees it; relaxed: written behind, "
        f"may lose the last few ms on a crash (env {ENV_DURABILITY}; default {d.durability})",
    )
    add(
        "--persist-fraction",
        metavar="F",
        type=values.fraction,
        help="gradual rollout: the share of new games (0 to 1, by a stable hash of the game id) "
        "stored with --durability; the others are kept in memory only, lost on a restart "
        f"(env {ENV_PERSIST_FRACTION}; default {d.persist_fraction:g})",
    )
    add(
        "--token-ttl",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"lifetime of a reconnect token (default {values.format_duration_ms(d.token_ttl_ms)})",
    )
    add(
        "--snapshot-every",
        metavar="N",
        type=values.integer(1),
        help=f"events between snapshots of a game; hand ends always snapshot "
        f"(default {d.snapshot_every})",
    )
    add(
        "--keep-snapshots",
        metavar="K",
        type=values.integer(1),
        help=f"snapshots kept per game, the newest (default {d.keep_snapshots})",
    )
    add(
        "--replay-limit",
        metavar="N",
        type=values.integer(0),
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
        type=values.duration(positive=True),
        help=f"how often the cleanup runs: expired tokens, abandoned and expired games, the "
        f"storage quota "
        f"(default {values.format_duration_ms(d.cleanup_interval_ms)})",
    )
    add(
        "--retention",
        metavar="DURATION",
        type=values.duration(positive=False),
        help=f"how long completed games are kept before they are deleted "
        f"(default {values.format_duration_ms(d.retention_ms)})",
    )
    add(
        "--abandon-after",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"a game with no player action for this long is completed "
        f"(default {values.format_duration_ms(d.abandon_after_ms)})",
    )
    add(
        "--max-games",
        metavar="N",
        type=values.integer(1),
        help="most games stored; beyond it the oldest completed games are deleted, never one in "
        "play (default: no limit)",
    )
    add(
        "--max-storage-bytes",
        metavar="BYTES",
        type=values.integer(1),
        help="most bytes of stored events and snapshots; beyond it the oldest completed games are "
        "deleted, never one in play (default: no limit)",
    )
    add(
        "--ping-interval",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"how often the server pings each WebSocket client, and sends a `: ping` comment "
        f"on an event stream quiet that long "
        f"(default {values.format_duration_ms(d.ping_interval_ms)})",
    )
    add(
        "--sse-retry",
        metavar="DURATION",
        type=values.duration(positive=True),
        help="how long a browser's EventSource waits before it reconnects an event stream that "
        f"broke (SSE `retry:`; default {values.format_duration_ms(d.sse_retry_ms)})",
    )
    add(
        "--idle-timeout",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"a WebSocket client silent this long is disconnected; it resumes from its last "
        f"seq (default {values.format_duration_ms(d.idle_timeout_ms)}; longer than --ping-interval)",
    )
    add(
        "--session-ttl",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"lifetime of a session token (a player's bearer token); a connected client is "
        f"sent fresh ones, and a reconnect elsewhere ends the older ones "
        f"(default {values.format_duration_ms(d.session_ttl_ms)})",
    )
    _add_limits(parser)
    add_login_options(parser)
    add(
        "--web-dir",
        type=values.directory,
        metavar="DIR",
        help=f"the browser bundle's folder (client_sdk/web: the demo pages, and Pyodide and the "
        f"SDK wheels built by `nox -s bundle` in dist/) served at /, /play/ID, /static/, "
        f"/pyodide/ and /sdk/ "
        f"(env {ENV_WEB_DIR}; default: client_sdk/web of this checkout)",
    )
    add("--log-level", choices=LOG_LEVELS, help="log level (default info)")
    return parser


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """The options of docs/operations.md's "Limits"."""
    d = _DEFAULTS
    group = parser.add_argument_group(
        "limits",
        "bounds that keep anonymous clients from hurting the server (see docs/operations.md, Limits)",
    )
    add = group.add_argument
    add(
        "--min-action-timeout",
        metavar="DURATION",
        type=values.duration(positive=False),
        help=f"the shortest actionTimeoutMs a new table may ask for "
        f"(default {values.format_duration_ms(d.min_action_timeout_ms)})",
    )
    add(
        "--min-next-hand-delay",
        metavar="DURATION",
        type=values.duration(positive=False),
        help=f"the shortest nextHandDelayMs a new table may ask for "
        f"(default {values.format_duration_ms(d.min_next_hand_delay_ms)})",
    )
    add(
        "--max-starting-stack",
        metavar="CHIPS",
        type=values.integer(1, 1_000_000_000),
        help=f"the largest startingStack a new table may ask for (default {d.max_starting_stack})",
    )
    add(
        "--unattended-after",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"a table where no seated player has acted or been connected for this long deals "
        f"no new hand until one is back "
        f"(default {values.format_duration_ms(d.unattended_after_ms)})",
    )
    add(
        "--max-events-per-game",
        metavar="N",
        type=values.integer(1),
        help=f"a game is completed once it has this many events (default {d.max_events_per_game})",
    )
    add(
        "--max-connections",
        metavar="N",
        type=values.integer(1),
        help=f"most connections open at once; more are refused at once with 503 (default "
        f"{d.max_connections}, lowered to what the open-file limit allows)",
    )
    add(
        "--header-timeout",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"a request's headers must arrive within this (default "
        f"{values.format_duration_ms(d.header_timeout_ms)})",
    )
    add(
        "--body-timeout",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"a request's body must arrive within this once its headers have (default "
        f"{values.format_duration_ms(d.body_timeout_ms)})",
    )
    add(
        "--keep-alive-timeout",
        metavar="DURATION",
        type=values.duration(positive=True),
        help=f"an idle keep-alive connection is closed after this (default "
        f"{values.format_duration_ms(d.keep_alive_timeout_ms)})",
    )
    for flag, field, what in RATE_OPTIONS:
        add(
            flag,
            metavar="RATE",
            type=values.rate,
            # Absent unless given: `off` parses to None, which must not read as "not given".
            default=argparse.SUPPRESS,
            help=f"{what} (default {values.format_rate(getattr(d, field))}; e.g. 30/m, 5/s; off: none)",
        )
    add(
        "--trusted-proxy",
        metavar="ADDRESS",
        type=values.proxy,
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
RATE_OPTIONS = (
    ("--rate-create", "rate_create", "games created per client address"),
    ("--rate-join", "rate_join", "joins per client address"),
    ("--rate-token", "rate_token", "connection tokens fetched per player"),
    ("--rate-force-persist", "rate_force_persist", "persists with forceOverwrite per caller"),
    (
        "--rate-connect",
        "rate_connect",
        "resumes per player (WebSocket hello, POST reconnect or reclaim), counted when they win it",
    ),
    (
        "--rate-connect-address",
        "rate_connect_address",
        "WebSocket connections, POST reconnects and reclaims per address",
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


def _add_game(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--game",
        metavar="MODULE:ATTR",
        action="append",
        type=values.game_spec,
        help="serve a kind of game besides poker: the engine (or a callable returning one) at "
        "ATTR in the importable MODULE, e.g. liars_dice:LiarsDiceEngine; repeatable "
        f"(env {ENV_GAMES}, comma-separated)",
    )


def build_rekey_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} rekey",
        description="Re-encrypt the private game data (hole cards) of every event and snapshot "
        "under the newest data key: rows sealed with an older key, and rows stored in the clear "
        "that hold private fields. Safe while servers run, once every one of them was given the "
        "keys as here, newest first (docs/operations.md: add the new key last everywhere, then "
        "first, then rekey). Prints its progress and a summary, then retires the "
        "older keys, which may then be dropped. A second run rewrites nothing.",
        epilog=f"The keys come from {ENV_DATA_KEYS} or --data-key-file, as for the server; "
        "--game as the server's, so that rows in the clear are sealed as their game declares. "
        "Exit status: 0 done; 2 a usage error, or keys that miss one the database holds "
        "(nothing changed); 4 the database cannot be opened; 5 rows that do not open "
        "(tampered with: roll their games back or delete them); 6 rows sealed with a key that "
        "was not given; no key is retired on 5 or 6; 7 a key a running server still seals with "
        "(not retired: give every server the new key first). Any other status is a crash.",
    )
    _add_database_url(parser)
    _add_game(parser)
    add_data_key_option(parser)
    parser.add_argument(
        "--batch-size",
        metavar="N",
        type=values.integer(1, 100_000),
        default=500,
        help="rows read and rewritten per transaction (default 500)",
    )
    parser.add_argument(
        "--resplit",
        action="store_true",
        help="also open the rows already under the newest key and seal them again as their "
        "game declares private today (after a game declares more private fields)",
    )
    return parser


def build_proxy_config_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} proxy-config",
        usage=f"{PROG} proxy-config --listen HOST:PORT --node URL [--node URL ...]",
        description="Print the HAProxy (2.6+) configuration of a rejoin cluster, nodes on one\n"
        "PostgreSQL behind one proxy: each game's requests and WebSocket go to one node\n"
        "(consistent hashing on the game id), health checks on /healthz take a node out\n"
        "within half a second, and a request to a dead node is retried on another. A\n"
        "comment in the output explains every setting. Check it with `haproxy -c -f FILE`.",
        epilog=f"example:\n  {PROG} proxy-config --listen 0.0.0.0:80 \\\n"
        "      --node http://10.0.0.5:8000 --node http://10.0.0.6:8000 > haproxy.cfg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        required=True,
        type=values.listen_address,
        help="where HAProxy listens, e.g. 0.0.0.0:80 ([::]:80 for IPv6)",
    )
    parser.add_argument(
        "--node",
        metavar="URL",
        required=True,
        action="append",
        type=values.node_url,
        help="a node, http://HOST:PORT; repeat it for each node, in the same order on every "
        "proxy (the hash ring follows it), new nodes last",
    )
    return parser
