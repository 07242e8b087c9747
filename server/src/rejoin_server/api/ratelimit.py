"""Rate limits per client address and per player: token buckets kept in memory.

Each limited request names a rule (`create`, `join`, …), the operator's `Rate` for it and a key
(the client address, or a player). A bucket holds up to `count` requests and refills at `count`
per period, so a burst of `count` passes and then one request every `period / count`. A request
over the limit is `rate_limited` (429) with `Retry-After`: the seconds until one more would pass.
It has done nothing, so a client may simply send it again then.

Memory is bounded: at most `MAX_KEYS` buckets; the least recently used one is dropped first (it
is then full again, which only ever errs on the side of the client). IPv6 clients are keyed by
their /64 network, since one host commonly holds a whole /64 and could rotate through it.
"""

from __future__ import annotations

import functools
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import IPv6Address, ip_address

from starlette.requests import HTTPConnection

from rejoin_server.errors import RateLimited
from rejoin_server.settings import Rate

MAX_KEYS = 100_000


def client_key(conn: HTTPConnection) -> str:
    """The client's address as a rate-limit key (its /64 for IPv6). The address is the
    connection's own unless a `--trusted-proxy` forwarded it (uvicorn sets `conn.client`)."""
    return _key_of(conn.client.host if conn.client is not None else "")


# A reconnect storm parses the same few addresses a thousand times.
@functools.lru_cache(maxsize=4096)
def _key_of(host: str) -> str:
    try:
        address = ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, IPv6Address) and address.ipv4_mapped is None:
        return f"{int(address) >> 64:x}::/64"
    return str(address.ipv4_mapped if isinstance(address, IPv6Address) else address)


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # (rule, key) → (tokens left, when they were counted)
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def check(
        self, rule: str, rate: Rate | None, key: str, what: str, *, spend: bool = True
    ) -> None:
        """Take one request from the bucket of (`rule`, `key`); raises `RateLimited` naming
        `what` ("games created from your address") when it is empty. `rate` None: no limit.

        `spend=False` only looks: a request that counts once it has succeeded (`spend` after
        it), so that failures someone else can cause never empty the bucket of a player."""
        if rate is None:
            return
        tokens, now, per_token_s = self._refilled(rule, rate, key)
        if tokens >= 1.0:
            self._keep((rule, key), tokens - 1.0 if spend else tokens, now)
            return
        self._keep((rule, key), tokens, now)
        raise RateLimited(what, max(1, math.ceil((1.0 - tokens) * per_token_s)))

    def spend(self, rule: str, rate: Rate | None, key: str) -> None:
        """Count one request that `check(spend=False)` let through and that has succeeded."""
        if rate is None:
            return
        tokens, now, _ = self._refilled(rule, rate, key)
        self._keep((rule, key), max(0.0, tokens - 1.0), now)

    def _refilled(self, rule: str, rate: Rate, key: str) -> tuple[float, float, float]:
        """The bucket's tokens now (taken out of the map: `_keep` puts it back), the time, and
        the seconds one token takes to refill."""
        now = self._clock()
        per_token_s = rate.per_ms / 1000 / rate.count
        tokens, counted_at = self._buckets.pop((rule, key), (float(rate.count), now))
        return min(float(rate.count), tokens + (now - counted_at) / per_token_s), now, per_token_s

    def _keep(self, bucket: tuple[str, str], tokens: float, now: float) -> None:
        self._buckets[bucket] = (tokens, now)  # re-inserted: the most recently used is last
        if len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
