"""`rejoin.browser.join_flow.before_join` under CPython (where `http_api` goes over httpx): a
server that does not answer leaves the table undescribed, as in a browser, instead of raising
httpx's own error out of the page's controller."""

from __future__ import annotations

import socket

from rejoin.browser.join_flow import BeforeJoin, before_join


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_no_answer_leaves_the_table_undescribed() -> None:
    found = await before_join(f"http://127.0.0.1:{closed_port()}", "g1", 2)
    assert found == BeforeJoin()  # no refusal, no choice: the join form asks, the join will say
