"""The process's open-file limit, and how many connections it leaves room for.

Every connection is a file descriptor, and so are the database's connections, the log and each
file being served. Once they are all taken, accept() fails (EMFILE) and the listening socket stops
taking anyone, players included, while asyncio logs each failure (issue 12). So at start the soft
limit is raised as far as the hard limit allows (`raise_soft_limit`), and the connection cap is
kept below it by `RESERVE` (`connection_cap`): the cap refuses the connection past it with a 503
(`connections`), long before accept() could fail. When the limit cannot hold --max-connections,
`shortfall` says so, and how to raise it.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

# Descriptors kept for what is not a connection: the standard streams, the event loop's, the
# listening socket, the database's connections (on SQLite a file, its WAL and its shared memory for
# each of the two connections), a file for each response sending one from /static/, /pyodide/ or
# /sdk/, and the connections being refused, each open from its accept() until the next turns of
# the event loop close it (`accepts_per_turn`).
RESERVE = 128
# An unlimited hard limit cannot be the soft one: Linux stops at fs.nr_open (2**20 unless raised),
# macOS at OPEN_MAX (10240). Tried in this order.
_UNLIMITED_TRIES = (1 << 20, 10_240)


@dataclass(frozen=True, slots=True)
class OpenFileLimit:
    soft: int  # what the process may open now
    hard: int  # the most the soft limit may be raised to; resource.RLIM_INFINITY for no limit

    @property
    def hard_text(self) -> str:
        return "unlimited" if self.hard == resource.RLIM_INFINITY else str(self.hard)


def raise_soft_limit() -> OpenFileLimit:
    """Raise the soft RLIMIT_NOFILE to the hard one (an unprivileged process may), and return
    both. Shells and services often start with a soft limit of 1024 under a much higher hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    tries = _UNLIMITED_TRIES if hard == resource.RLIM_INFINITY else (hard,)
    for target in tries:
        if soft != resource.RLIM_INFINITY and target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        soft = target
        break
    return OpenFileLimit(soft, hard)


def connection_cap(wanted: int, limit: OpenFileLimit) -> int:
    """The most connections to keep open: `wanted` (--max-connections), or fewer when the soft
    limit less `RESERVE` is lower. Zero or less: the limit is too low to serve at all."""
    if limit.soft == resource.RLIM_INFINITY:
        return wanted
    return min(wanted, limit.soft - RESERVE)


# Descriptors of `RESERVE` the server's own files take at most (the rest is for refusals), how many
# turns of the event loop a refused connection holds its descriptor, and the bounds of
# `accepts_per_turn` (at most the listen queue: asyncio takes create_server's `backlog` for both).
OWN_FILES = 64
TURNS_HELD = 5
FEWEST_ACCEPTS = 16
MOST_ACCEPTS = 2048


def accepts_per_turn(limit: OpenFileLimit, cap: int) -> int:
    """How many connections asyncio may accept in one turn of its loop. Each holds a descriptor
    before it can be refused at the cap (for about `TURNS_HELD` turns), so past the cap a turn may
    take no more than the limit leaves spare. But a restart's storm of reconnecting players is
    served faster the more a turn takes (measured: 16 a turn cost 0.3 s of CPU and 250 ms more to
    welcome 1,002 players than 2048 a turn): as many as the limit allows, up to `MOST_ACCEPTS`."""
    if limit.soft == resource.RLIM_INFINITY:
        return MOST_ACCEPTS
    spare = limit.soft - cap - OWN_FILES
    return max(FEWEST_ACCEPTS, min(MOST_ACCEPTS, spare // TURNS_HELD))


def needed(wanted: int) -> int:
    """The open-file limit that holds `wanted` connections."""
    return wanted + RESERVE


def shortfall(wanted: int, limit: OpenFileLimit) -> str | None:
    """One line for the log when the limit holds fewer than `wanted` connections; else None."""
    cap = connection_cap(wanted, limit)
    if cap >= wanted:
        return None
    return (
        f"the open-file limit is {limit.soft} (hard limit {limit.hard_text}), so at most {cap} "
        f"connections are kept open, not --max-connections {wanted}; for all of them raise it to "
        f"{needed(wanted)} (`ulimit -n {needed(wanted)}` in the shell that starts the server, "
        f"or LimitNOFILE={needed(wanted)} in its systemd unit)"
    )
