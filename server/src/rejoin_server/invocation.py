"""What a `rejoin-server` command line asks for, shared by the side that parses it (`cli`) and the
side that runs it (`serve`): the program's name, `Invocation`, and `mask_url`, the one way both
print a database URL.

It sits below both so that the dependency runs one way, `cli` → `serve` → here, and imports only
the standard library and `settings`: `--help` must stay cheap (see `cli`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from rejoin_server.settings import ServerSettings

PROG = "rejoin-server"
Command = Literal["serve", "migrate", "proxy-config", "rollback", "rekey"]

# Exit status of a usage error (argparse's) and of anything else at start that the operator must
# fix (a SQLite file another server serves, a port in use, a --game that does not load): starting
# again will not help, so the systemd unit does not (`RestartPreventExitStatus=2`).
EXIT_USAGE = 2
# Exit status of a database that cannot be opened at start: it may be down for a moment (restarting,
# unreachable), so a supervisor starts the server again.
EXIT_DATABASE = 4


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    """`rollback`'s arguments: roll `game_id` back to `version` (or, with `list_only`, print the
    versions kept)."""

    game_id: str
    version: int | None = None
    reason: str | None = None
    reopen: bool = False
    list_only: bool = False


@dataclass(frozen=True, slots=True)
class Invocation:
    """What the command line asks for. `admin_token_from` names where the admin token came from
    (`--admin-token` or `REJOIN_ADMIN_TOKEN`); None: none was given and `serve` generates one.
    `proxy_listen` and `proxy_nodes` are `proxy-config`'s `--listen` (host, port) and `--node`
    URLs (checked, as `http://host:port`); the other commands leave them empty. `batch_size`
    is `rekey`'s `--batch-size`."""

    command: Command
    settings: ServerSettings
    log_level: str = "info"
    admin_token_from: str | None = None
    proxy_listen: tuple[str, int] | None = None
    proxy_nodes: tuple[str, ...] = ()
    rollback: RollbackRequest | None = None  # `rollback`'s own arguments
    batch_size: int = 500  # `rekey`'s rows per transaction
    resplit: bool = False  # `rekey --resplit`


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
