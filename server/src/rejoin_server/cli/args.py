"""`parse_args`: a command line and an environment → an `Invocation`, as a pure function, so that
every option is tested without a server.

Flags beat environment variables, which beat the defaults of `ServerSettings`.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Mapping, Sequence
from typing import TypeVar, cast

from rejoin_server.cli import values
from rejoin_server.cli.datakeys import data_keys
from rejoin_server.cli.login import login_settings
from rejoin_server.cli.parsers import (
    ENV_ADMIN_TOKEN,
    ENV_CLUSTER_DATABASE_URL,
    ENV_DATABASE_URL,
    ENV_DURABILITY,
    ENV_GAMES,
    ENV_NODE_ID,
    ENV_PERSIST_FRACTION,
    ENV_SECRET_KEYS,
    ENV_TRUSTED_PROXIES,
    ENV_WEB_DIR,
    RATE_OPTIONS,
    build_migrate_parser,
    build_parser,
    build_proxy_config_parser,
    build_rekey_parser,
)
from rejoin_server.cli.rollback_parser import build_rollback_parser
from rejoin_server.cli.rollback_parser import check as check_rollback
from rejoin_server.invocation import Invocation, RollbackRequest
from rejoin_server.settings import DEFAULT_DATABASE_URL, Durability, ServerSettings

_DEFAULTS = ServerSettings()
_T = TypeVar("_T")


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _secret_keys(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> tuple[str, ...]:
    """`REJOIN_SECRET_KEYS`, each key checked (`values.secret_key`); a bad one is a usage error
    naming the variable and which key, never printing the others."""
    keys = tuple(key.strip() for key in env.get(ENV_SECRET_KEYS, "").split(",") if key.strip())
    for position, key in enumerate(keys, 1):
        try:
            values.secret_key(key)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{ENV_SECRET_KEYS} (key {position} of {len(keys)}): {exc}")
    return keys


def _refuse_negative_durations(parser: argparse.ArgumentParser, args: list[str]) -> None:
    """`--token-ttl -5s`: argparse takes `-5s` for an option and says only "expected one
    argument". Say what is wrong with the value instead."""
    for option, value in itertools.pairwise(args):
        action = parser._option_string_actions.get(option)  # argparse's own index of options
        negative = value.startswith("-") and value[1:2].isdigit()
        if negative and action is not None and isinstance(action.type, values.Duration):
            said = values.negative_duration(value, positive=action.type.positive)
            parser.error(f"argument {option}: {said}")


def _check_heartbeat(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    """The idle timeout must outlast a ping interval (`ServerSettings` checks it too, in its own
    field names): said here in the flags' words, with the values that clash."""
    d = _DEFAULTS
    idle = _given(ns.idle_timeout, d.idle_timeout_ms)
    ping = _given(ns.ping_interval, d.ping_interval_ms)
    if idle > ping:
        return

    def said(flag: str, ms: int, given: object) -> str:
        return f"{flag} {values.format_duration_ms(ms)}" + ("" if given else " (its default)")

    parser.error(
        f"{said('--idle-timeout', idle, ns.idle_timeout)} must be longer than "
        f"{said('--ping-interval', ping, ns.ping_interval)}: a connection counts as idle only "
        "after it missed a ping; raise --idle-timeout or lower --ping-interval"
    )


def parse_args(argv: Sequence[str], env: Mapping[str, str]) -> Invocation:
    """The command line (without the program name) and environment → what to run, with what
    settings. Flags beat environment variables, which beat the defaults of `ServerSettings`.
    A bad value exits with argparse's usage error (status 2) naming the option or variable."""
    args = list(argv)
    if args[:1] == ["migrate"]:
        parser = build_migrate_parser()
        ns = parser.parse_args(args[1:])
        url = ns.database_url or values.from_env(parser, env, ENV_DATABASE_URL, values.database_url)
        settings = ServerSettings(database_url=url or DEFAULT_DATABASE_URL)
        return Invocation("migrate", settings)

    if args[:1] == ["rollback"]:
        return _rollback(args[1:], env)
    if args[:1] == ["rekey"]:
        parser = build_rekey_parser()
        ns = parser.parse_args(args[1:])
        url = ns.database_url or values.from_env(parser, env, ENV_DATABASE_URL, values.database_url)
        keys = data_keys(parser, ns, env)
        if not keys:
            parser.error(
                "no data key given: set REJOIN_DATA_KEYS or --data-key-file, the new key first "
                "and the old ones after it"
            )
        settings = ServerSettings(
            database_url=url or DEFAULT_DATABASE_URL,
            data_keys=keys,
            games=tuple(ns.game or values.listed_in_env(parser, env, ENV_GAMES, values.game_spec)),
        )
        return Invocation("rekey", settings, batch_size=ns.batch_size, resplit=ns.resplit)

    if args[:1] == ["proxy-config"]:
        parser = build_proxy_config_parser()
        ns = parser.parse_args(args[1:])
        nodes: list[str] = ns.node
        twice = next((url for i, url in enumerate(nodes) if url in nodes[:i]), None)
        if twice is not None:
            parser.error(f"argument --node: {twice} is given twice")
        return Invocation(
            "proxy-config", ServerSettings(), proxy_listen=ns.listen, proxy_nodes=tuple(nodes)
        )

    if args[:1] == ["serve"]:
        args = args[1:]
    parser = build_parser()
    _refuse_negative_durations(parser, args)
    ns = parser.parse_args(args)
    _check_heartbeat(parser, ns)
    d = _DEFAULTS
    url = ns.database_url or values.from_env(parser, env, ENV_DATABASE_URL, values.database_url)
    admin_token = ns.admin_token
    given_by = "--admin-token" if admin_token is not None else None
    if admin_token is None:
        admin_token = values.from_env(parser, env, ENV_ADMIN_TOKEN, values.admin_token)
        given_by = ENV_ADMIN_TOKEN if admin_token is not None else None
    durability = ns.durability or values.from_env(parser, env, ENV_DURABILITY, values.durability)
    fraction = ns.persist_fraction  # not `or`: 0 is a fraction given
    if fraction is None:
        fraction = values.from_env(parser, env, ENV_PERSIST_FRACTION, values.fraction)
    try:
        settings = ServerSettings(
            database_url=url or DEFAULT_DATABASE_URL,
            admin_token=admin_token,
            secret_keys=_secret_keys(parser, env),
            data_keys=data_keys(parser, ns, env),
            durability=cast(Durability, durability or d.durability),
            persist_fraction=_given(fraction, d.persist_fraction),
            games=tuple(ns.game or values.listed_in_env(parser, env, ENV_GAMES, values.game_spec)),
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
            sse_retry_ms=_given(ns.sse_retry, d.sse_retry_ms),
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
            **{field: getattr(ns, field, getattr(d, field)) for _, field, _ in RATE_OPTIONS},
            trusted_proxies=tuple(
                ns.trusted_proxy
                or values.listed_in_env(parser, env, ENV_TRUSTED_PROXIES, values.proxy)
            ),
            retire_stored_key=ns.retire_stored_key,
            **login_settings(parser, ns, env),
            web_dir=ns.web_dir or values.from_env(parser, env, ENV_WEB_DIR, values.directory),
            node_id=ns.node_id or values.from_env(parser, env, ENV_NODE_ID, values.node_id),
            cluster_database_url=ns.cluster_database_url
            or values.from_env(parser, env, ENV_CLUSTER_DATABASE_URL, values.cluster_database_url),
            host=_given(ns.host, d.host),
            port=_given(ns.port, d.port),
        )
    except ValueError as exc:  # ServerSettings' own checks; the option types catch these first
        parser.error(str(exc))
    return Invocation("serve", settings, ns.log_level or "info", given_by)


def _rollback(args: list[str], env: Mapping[str, str]) -> Invocation:
    """`rollback GAME VERSION --reason TEXT [--reopen]`, or `rollback GAME --list`."""
    parser = build_rollback_parser()
    ns = parser.parse_args(args)
    check_rollback(parser, ns)
    url = ns.database_url or values.from_env(parser, env, ENV_DATABASE_URL, values.database_url)
    games = ns.game or values.listed_in_env(parser, env, ENV_GAMES, values.game_spec)
    settings = ServerSettings(
        database_url=url or DEFAULT_DATABASE_URL,
        games=tuple(games),
        data_keys=data_keys(parser, ns, env),
    )
    request = RollbackRequest(ns.game_id, ns.version, ns.reason, bool(ns.reopen), bool(ns.list))
    return Invocation("rollback", settings, rollback=request)
