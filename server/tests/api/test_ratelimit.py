"""The rate limiter on its own: token buckets, their keys, and their bound in memory."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import HTTPConnection

from rejoin_server.api import ratelimit
from rejoin_server.api.ratelimit import RateLimiter, client_key
from rejoin_server.errors import RateLimited
from rejoin_server.settings import Rate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_count_passes_then_one_per_period_over_count() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(3, 60_000)  # 3 at once, then one every 20 s
    for _ in range(3):
        limiter.check("create", rate, "1.2.3.4", "games")
    with pytest.raises(RateLimited) as refused:
        limiter.check("create", rate, "1.2.3.4", "games created from your address")
    assert refused.value.retry_after_s == 20
    assert refused.value.details == {"retryAfter": 20}
    assert refused.value.message == ("Too many games created from your address; try again in 20 s.")
    clock.now += 19.5
    with pytest.raises(RateLimited) as again:
        limiter.check("create", rate, "1.2.3.4", "games")
    assert again.value.retry_after_s == 1  # rounded up, never 0
    clock.now += 0.5
    limiter.check("create", rate, "1.2.3.4", "games")
    clock.now += 3600  # a long pause refills the bucket, but never past its size
    for _ in range(3):
        limiter.check("create", rate, "1.2.3.4", "games")
    with pytest.raises(RateLimited):
        limiter.check("create", rate, "1.2.3.4", "games")


def test_rules_and_keys_have_buckets_of_their_own_and_none_is_no_limit() -> None:
    limiter = RateLimiter(Clock())
    one = Rate(1, 1000)
    limiter.check("create", one, "a", "x")
    limiter.check("create", one, "b", "x")
    limiter.check("join", one, "a", "x")
    with pytest.raises(RateLimited):
        limiter.check("create", one, "a", "x")
    for _ in range(1000):
        limiter.check("create", None, "a", "x")


def test_memory_is_bounded_by_dropping_the_least_recently_used_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 3)
    limiter = RateLimiter(Clock())
    one = Rate(1, 60_000)
    for key in ("a", "b", "c"):
        limiter.check("r", one, key, "x")
    with pytest.raises(RateLimited):
        limiter.check("r", one, "a", "x")  # `a` is now the most recently used
    limiter.check("r", one, "d", "x")  # drops `b`, the least recently used
    limiter.check("r", one, "b", "x")  # a fresh bucket (drops `c`)
    with pytest.raises(RateLimited):
        limiter.check("r", one, "a", "x")  # still kept, still empty


def connection(host: str | None) -> HTTPConnection:
    scope: dict[str, Any] = {
        "type": "http",
        "client": None if host is None else (host, 5000),
        "headers": [],
    }
    return HTTPConnection(scope)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "20010db800010002::/64"),
        ("2001:db8:1:2:bbbb::7", "20010db800010002::/64"),  # the same /64: one client
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_client_keys(host: str | None, key: str) -> None:
    assert client_key(connection(host)) == key
