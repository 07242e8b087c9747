"""The option values of `rejoin-server`: argparse `type=` functions that check one value each
(and the environment variables read as their flag), and the inverse formatting for help texts.

A bad value raises `argparse.ArgumentTypeError`, which argparse turns into a usage error naming
the option (exit 2); `args` does the same for environment variables.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from rejoin_server import proxy_config
from rejoin_server.invocation import mask_url
from rejoin_server.settings import NODE_ID, Rate, parse_duration_ms, parse_rate

_SCHEMES = ("sqlite", "postgresql", "postgres")
_POSTGRES_SCHEMES = ("postgresql", "postgres")
# A host name to listen on (RFC 1123 labels): what uvicorn would otherwise fail to bind at start.
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*"
)


def format_duration_ms(ms: int) -> str:
    """The inverse of `parse_duration_ms` for help texts: 1800000 → "30m"."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def format_rate(rate: Rate | None) -> str:
    return "off" if rate is None else str(rate)


class Duration:
    """An option's type: a duration (500ms, 15s, 30m, 12h, 7d; a bare number is seconds) in ms.
    A class, not a closure, so that `args` can tell a duration option when its value is missing."""

    def __init__(self, *, positive: bool) -> None:
        self.positive = positive

    def __call__(self, text: str) -> int:
        if text.strip().startswith("-"):
            raise argparse.ArgumentTypeError(negative_duration(text, positive=self.positive))
        try:
            ms = parse_duration_ms(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if self.positive and ms <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
        return ms


def negative_duration(text: str, *, positive: bool) -> str:
    """What is wrong with a duration written with a minus sign."""
    least = "longer than zero" if positive else "zero or longer"
    return f"{text!r} is negative: a duration here is {least}, e.g. 500ms, 15s, 30m, 12h, 7d"


def duration(*, positive: bool) -> Duration:
    """A duration option's type (`Duration`)."""
    return Duration(positive=positive)


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number (`_` allowed as a separator) from `minimum` to `maximum`."""

    bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number: use {bound}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: use {bound}")
        return value

    return parse


def rate(text: str) -> Rate | None:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def proxy(text: str) -> str:
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


def database_url(text: str) -> str:
    """Only the scheme is checked here (without SQLAlchemy, which `--help` must not import);
    whether the database opens is found out at start."""
    scheme, sep, _ = text.partition("://")
    if not sep or scheme.partition("+")[0].lower() not in _SCHEMES:
        raise argparse.ArgumentTypeError(
            f"{mask_url(text)!r} is not a database URL rejoin can use: write "
            "sqlite:///path/to/file.db or postgresql://user@host:5432/db"
        )
    return text


def cluster_database_url(text: str) -> str:
    """The cluster's own connections LISTEN on PostgreSQL: no other database will do."""
    scheme = text.partition("://")[0].partition("+")[0].lower()
    if scheme not in _POSTGRES_SCHEMES:
        raise argparse.ArgumentTypeError(
            f"{mask_url(text)!r} is not a PostgreSQL URL: the cluster's connections need "
            "PostgreSQL, write postgresql://user@host:5432/db"
        )
    return text


def listen_host(text: str) -> str:
    """An address to listen on: an IP address or a host name, checked before anything starts."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if not _HOST_NAME.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an address to listen on: use an IP address (127.0.0.1, "
                "0.0.0.0 for every interface, ::) or a host name (localhost)"
            ) from None
    return text


def directory(text: str) -> str:
    """A folder that exists (what is in it is checked where it is used)."""
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a directory: give the browser bundle's folder (client_sdk/web of "
            "a checkout, after `nox -s bundle`)"
        )
    return text


def admin_token(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the admin token must not be empty")
    return text


def node_id(text: str) -> str:
    if not NODE_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a node id: use 1 to 64 of A-Z a-z 0-9 . _ : - (e.g. web-1)"
        )
    return text


def durability(text: str) -> str:
    """`REJOIN_DURABILITY` (the flag itself is checked by argparse's `choices`)."""
    if text not in ("strict", "relaxed"):
        raise argparse.ArgumentTypeError(f"{text!r} is not strict or relaxed")
    return text


def fraction(text: str) -> float:
    """`--persist-fraction`: a number from 0 to 1 (`0.25`, `1`)."""
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: use a number from 0 to 1")
    return value


def listen_address(text: str) -> tuple[str, int]:
    """`proxy-config --listen`: HOST:PORT (`[::]:80` for IPv6)."""
    try:
        return proxy_config.parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def node_url(text: str) -> str:
    """`proxy-config --node`: http://HOST:PORT, returned as written the one way (lower-case host,
    no trailing slash), so that the same node given twice is seen to be."""
    try:
        return proxy_config.parse_node_url(text).url
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def game_spec(text: str) -> str:
    """`--game`'s MODULE:ATTR, by its form only: whether it imports is checked at start."""
    spec = text.strip()
    module, sep, attr = spec.partition(":")
    names = [*module.split("."), *attr.split(".")]
    if not sep or not all(name.isidentifier() for name in names):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not MODULE:ATTR (e.g. liars_dice:LiarsDiceEngine)"
        )
    return spec


_T = TypeVar("_T")


def from_env(
    parser: argparse.ArgumentParser,
    env: Mapping[str, str],
    name: str,
    check: Callable[[str], _T],
) -> _T | None:
    """An environment variable, checked like its flag; an empty one counts as unset. A bad value
    is argparse's usage error (exit 2) naming the variable."""
    text = env.get(name, "")
    if not text:
        return None
    try:
        return check(text)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"{name}: {exc}")


def listed_in_env(
    parser: argparse.ArgumentParser,
    env: Mapping[str, str],
    name: str,
    check: Callable[[str], str],
) -> tuple[str, ...]:
    """A comma-separated environment variable, each part checked like the repeatable flag it
    stands for; empty parts are skipped."""
    found = []
    for part in env.get(name, "").split(","):
        if part.strip():
            try:
                found.append(check(part))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"{name}: {exc}")
    return tuple(found)
