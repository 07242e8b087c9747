"""Chromium's own `EventSource` (no SDK) on a player's event stream, against a real server process
killed with SIGKILL and restarted (SQLite and PostgreSQL): the stream's `retry:` brings it back
within a second of the restart instead of after Chromium's default of 3 s, and it resumes exactly
from `Last-Event-ID`: every event once, ids in order with no gap.

And through HAProxy (`rejoin-server proxy-config`) in front of a cluster of three nodes on one
PostgreSQL: the node hosting the game is killed -9 and stays dead, as in test_cluster_kill.py.
"Ready" there is the kill itself: the other nodes are up, and the takeover is done by the stream's
own reconnect (HAProxy retries it on another node, which takes the game over), so the bound runs
from the kill, a stricter start than the single server's first healthy answer after its restart.
When HAProxy's health checks then take the dead node out, the game's route may name a third node:
the first request on it (the test's read) moves the game there, the node that had it ends the
stream, and the EventSource must be open again within a second of that read too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.support.browser import ContextFactory
from e2e.support.cluster import Cluster
from e2e.support.eventsource import KINDS, LISTEN
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

BACK_WITHIN_S = 1.0  # from the restarted server's first healthy answer to the stream open again
WAIT_S = 15.0


def page_ids(page: Page) -> list[int]:
    found: list[int] = page.evaluate("() => window.__ids")
    return found


def opens(page: Page) -> list[float]:
    found: list[float] = page.evaluate("() => window.__opens")
    return found


def wait_page(page: Page, what: str, done: Callable[[], Any]) -> None:
    wait_for(done, timeout=WAIT_S, what=what, interval=0.02, detail=lambda: str(page_ids(page)))


def open_stream(page: Page, base: str, table: Table, session: str) -> None:
    """The EventSource on the player's stream from the start, through `base`; its backlog heard."""
    seq = int(table.view()["seq"])
    page.goto(f"{base}/admin")  # any page of the origin: the stream is same-origin
    url = f"/api/game/{table.game_id}/events?after=0&session={session}"
    page.evaluate(LISTEN, [url, KINDS])
    wait_page(page, f"the backlog up to {seq}", lambda: page_ids(page)[-1:] == [seq])
    assert len(opens(page)) == 1


def open_again_s(page: Page, count: int, since_ms: float, what: str) -> float:
    """Waits for the stream's open number `count` (from 1); the seconds from `since_ms` to it."""
    wait_page(page, f"the stream to open again ({what})", lambda: len(opens(page)) >= count)
    return (opens(page)[count - 1] - since_ms) / 1000


@pytest.mark.timeout(180)
def test_a_native_eventsource_is_back_within_a_second_of_a_restart_with_every_event_once(
    db_server: ServerProcess,
    make_api: Callable[[ServerProcess], Api],
    context_factory: ContextFactory,
) -> None:
    server = db_server
    table = Table.create(make_api(server), seats=2, actionTimeoutMs=600_000)
    ann, _ = table.join_many(2)
    table.start()
    page = context_factory("eventsource", only_origin=server.url).new_page()
    open_stream(page, server.url, table, ann.session)

    server.kill9()
    server.restart()
    ready_ms = time.time() * 1000  # one machine, one clock: comparable with the page's
    back_s = open_again_s(page, 2, ready_ms, "after the restart")
    print(f"native EventSource open again {back_s * 1000:.0f} ms after the restart was healthy")
    assert back_s <= BACK_WITHIN_S, f"open again {back_s:.2f} s after the restart"

    moved = table.act_passively()  # a live event after the restart, on the resumed stream
    last = int(moved.ack["seq"])
    wait_page(page, f"event {last}", lambda: page_ids(page)[-1:] == [last])
    assert page_ids(page) == list(range(1, last + 1))  # every event once, in order, no gap


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_through_haproxy_the_stream_is_back_within_a_second_of_its_nodes_kill_with_every_event_once(
    cluster: Cluster,
    context_factory: ContextFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = cluster.proxy.url  # the page, the table's players and the test's reads: all via HAProxy
    table = Table.create(cluster.api, seats=2, actionTimeoutMs=600_000)
    ann, _ = table.join_many(2)
    table.start()
    page = context_factory("eventsource-proxy", only_origin=base).new_page()
    open_stream(page, base, table, ann.session)
    owner = cluster.owner_of(table.game_id)

    killed_ms = time.time() * 1000  # one machine, one clock: comparable with the page's
    cluster.nodes[owner].kill9()
    back_s = open_again_s(page, 2, killed_ms, "after the kill")
    taken_by = cluster.owner_of(table.game_id)  # the node the reconnect reached took the game
    assert taken_by != owner, f"the game is still owned by the killed node {owner}"
    assert back_s <= BACK_WITHIN_S, f"open again {back_s:.2f} s after the kill of {owner}"

    # HAProxy takes the dead node out; the game's final route may name another node than the one
    # that took it: the first request on that route (this read) moves the game there.
    wait_for(lambda: cluster.proxy_has_down(owner), timeout=WAIT_S, what=f"{owner} out of HAProxy")
    read_ms = time.time() * 1000
    table.view()
    final = cluster.owner_of(table.game_id)
    moved_s = None
    if final != taken_by:  # the node that had it ended the stream: open again, on `final`
        moved_s = open_again_s(page, 3, read_ms, f"the game moved from {taken_by} to {final}")
        assert moved_s <= BACK_WITHIN_S, f"open again {moved_s:.2f} s after the move to {final}"

    moved = table.act_passively()  # a live event on the stream as it now is
    last = int(moved.ack["seq"])
    wait_page(page, f"event {last}", lambda: page_ids(page)[-1:] == [last])
    assert page_ids(page) == list(range(1, last + 1))  # every event once, in order, no gap
    with capsys.disabled():
        print(
            f"\n[eventsource via HAProxy] killed {owner}: open again on {taken_by} "
            f"{back_s * 1000:.0f} ms after the kill"
            + (
                f"; moved to {final} by the route's first read, open again "
                f"{moved_s * 1000:.0f} ms after it"
                if moved_s is not None
                else f"; {final} is also the game's final route"
            )
            + f"; the page's errors (the drop, then each failed retry), ms after the kill: "
            f"{[round(at - killed_ms) for at in page.evaluate('() => window.__errors')]}"
        )
