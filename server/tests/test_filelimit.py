"""The open-file limit: raised to the hard one, and the connection cap it leaves room for."""

from __future__ import annotations

import resource

from rejoin_server.filelimit import (
    MOST_ACCEPTS,
    RESERVE,
    OpenFileLimit,
    accepts_per_turn,
    connection_cap,
    raise_soft_limit,
    shortfall,
)


def test_raise_soft_limit_raises_it_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lower = 512 if hard == resource.RLIM_INFINITY else max(64, min(1024, hard // 2))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lower, hard))
    try:
        found = raise_soft_limit()
        assert found == OpenFileLimit(*resource.getrlimit(resource.RLIMIT_NOFILE))
        assert found.soft > lower
        if hard != resource.RLIM_INFINITY:
            assert found.soft == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_cap_keeps_the_reserve_free() -> None:
    assert connection_cap(10_000, OpenFileLimit(1024, 1024)) == 1024 - RESERVE
    assert connection_cap(500, OpenFileLimit(1024, 4096)) == 500
    assert connection_cap(10_000, OpenFileLimit(10_000 + RESERVE, 10_000 + RESERVE)) == 10_000
    assert connection_cap(10, OpenFileLimit(resource.RLIM_INFINITY, resource.RLIM_INFINITY)) == 10
    assert connection_cap(10_000, OpenFileLimit(RESERVE, RESERVE)) == 0


def test_a_limit_too_low_for_max_connections_says_how_to_raise_it() -> None:
    line = shortfall(10_000, OpenFileLimit(1024, 1024))
    needed = 10_000 + RESERVE
    assert line == (
        f"the open-file limit is 1024 (hard limit 1024), so at most {1024 - RESERVE} connections "
        f"are kept open, not --max-connections 10000; for all of them raise it to {needed} "
        f"(`ulimit -n {needed}` in the shell that starts the server, or LimitNOFILE={needed} in "
        "its systemd unit)"
    )
    unlimited = shortfall(10_000, OpenFileLimit(1024, resource.RLIM_INFINITY))
    assert unlimited is not None
    assert "(hard limit unlimited)" in unlimited
    assert shortfall(10_000, OpenFileLimit(20_000, 20_000)) is None
    assert shortfall(100, OpenFileLimit(1024, 1024)) is None


def test_a_turn_accepts_what_the_limit_leaves_spare_and_no_fewer_than_a_few() -> None:
    """Past the cap each accepted connection holds a descriptor for a few turns before it is
    refused; a turn must not take more than the limit leaves, but a restart's storm is served
    faster the more it takes."""
    tight = OpenFileLimit(1024, 1024)
    assert accepts_per_turn(tight, connection_cap(10_000, tight)) == 16
    roomy = OpenFileLimit(20_000, 20_000)
    assert accepts_per_turn(roomy, connection_cap(10_000, roomy)) == (20_000 - 10_000 - 64) // 5
    huge = OpenFileLimit(1 << 20, 1 << 20)
    assert accepts_per_turn(huge, connection_cap(10_000, huge)) == MOST_ACCEPTS
    unlimited = OpenFileLimit(resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    assert accepts_per_turn(unlimited, 10_000) == MOST_ACCEPTS
