"""Chromium's own `EventSource` (no SDK) on a player's event stream, against a real server process
killed with SIGKILL and restarted (SQLite and PostgreSQL): the stream's `retry:` brings it back
within a second of the restart instead of after Chromium's default of 3 s, and it resumes exactly
from `Last-Event-ID`: every event once, ids in order with no gap."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.support.browser import ContextFactory
from e2e.support.spawn import Spawn
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Table

# The poker event kinds (docs/protocol.md): an EventSource hears a named event only by its name.
KINDS = [
    "player_joined", "player_left", "hand_started", "hole_cards", "blind_posted", "action",
    "timeout", "street", "showdown", "pot_awarded", "hand_ended", "game_completed",
    "snapshot_restored",
]  # fmt: skip
BACK_WITHIN_S = 1.0  # from the restarted server's first healthy answer to the stream open again
WAIT_S = 15.0

# Opens the stream and records, in page time (epoch ms), each event's id and each (re)open.
LISTEN = """([url, kinds]) => {
    window.__ids = []; window.__opens = []; window.__errors = 0;
    const source = new EventSource(url);
    const heard = (e) => window.__ids.push(Number(e.lastEventId));
    for (const kind of kinds) source.addEventListener(kind, heard);
    source.onopen = () => window.__opens.push(performance.timeOrigin + performance.now());
    source.onerror = () => { window.__errors += 1; };
}"""


@pytest.fixture
def any_server(spawn: Spawn, db_url: str) -> ServerProcess:
    """A server on SQLite, then on PostgreSQL (this folder's `server` is SQLite only)."""
    return spawn(db_url)


def page_ids(page: Page) -> list[int]:
    found: list[int] = page.evaluate("() => window.__ids")
    return found


def opens(page: Page) -> list[float]:
    found: list[float] = page.evaluate("() => window.__opens")
    return found


def wait_page(page: Page, what: str, done: Callable[[], Any]) -> None:
    wait_for(done, timeout=WAIT_S, what=what, interval=0.02, detail=lambda: str(page_ids(page)))


@pytest.mark.timeout(180)
def test_a_native_eventsource_is_back_within_a_second_of_a_restart_with_every_event_once(
    any_server: ServerProcess,
    make_api: Callable[[ServerProcess], Api],
    context_factory: ContextFactory,
) -> None:
    server = any_server
    table = Table.create(make_api(server), seats=2, actionTimeoutMs=600_000)
    ann, _ = table.join_many(2)
    table.start()
    seq = int(table.view()["seq"])
    page = context_factory("eventsource", only_origin=server.url).new_page()
    page.goto(f"{server.url}/admin")  # any page of the server's origin: the stream is same-origin
    url = f"/api/game/{table.game_id}/events?after=0&session={ann.session}"
    page.evaluate(LISTEN, [url, KINDS])
    wait_page(page, f"the backlog up to {seq}", lambda: page_ids(page)[-1:] == [seq])
    assert len(opens(page)) == 1

    server.kill9()
    server.restart()
    ready_ms = time.time() * 1000  # one machine, one clock: comparable with the page's
    wait_page(page, "the stream to open again", lambda: len(opens(page)) >= 2)
    back_s = (opens(page)[1] - ready_ms) / 1000
    print(f"native EventSource open again {back_s * 1000:.0f} ms after the restart was healthy")
    assert back_s <= BACK_WITHIN_S, f"open again {back_s:.2f} s after the restart"

    moved = table.act_passively()  # a live event after the restart, on the resumed stream
    last = int(moved.ack["seq"])
    wait_page(page, f"event {last}", lambda: page_ids(page)[-1:] == [last])
    assert page_ids(page) == list(range(1, last + 1))  # every event once, in order, no gap
