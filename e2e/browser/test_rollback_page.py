"""An operator's rollback as the people at the table see it, in real Chromium against a real server
process (SQLite and PostgreSQL): the operator console lists the versions kept, saying which are
between hands, and rolls a game back, mid-hand, to the end of the previous hand, after a second
click and with a reason; the player's table page gets the rollback as an ordinary event (once, in
order), says that an operator rolled the table back and to which hand, and redraws the server's
view; the game then goes on from there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.support.browser import ContextFactory, screenshot
from e2e.support.table_page import (
    Seat,
    assert_exactly_once,
    join,
    logged_lines,
    open_table,
    passive_click,
    server_seqs,
    server_view,
    wait_drawn_like_server,
)
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table

CLOCK_MS = 120_000  # no action clock runs out while the test looks
WAIT_MS = 15_000
REASON = "misdeal reported at the table"


def play(base: str, me: Seat, bob: Player, *, until: Any, what: str) -> dict[str, Any]:
    """The page checks or calls on its turn, Bob likewise over HTTP, until `until(view)`."""
    deadline = time.monotonic() + 60
    while True:
        view = server_view(base, me.game_id, me.session_token)
        if until(view):
            return view
        assert time.monotonic() < deadline, f"not reached: {what}; the server: {view}"
        if view["toAct"] == bob.seat:
            legal = {a["type"] for a in bob.view()["you"]["legalActions"]}
            bob.act("check" if "check" in legal else "call").ok(200)
        elif view["toAct"] is not None:
            passive_click(me.page)
        time.sleep(0.05)


def admin(server: ServerProcess, token: str, method: str, path: str) -> Any:
    reply = httpx.request(
        method, f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def roll_back_in_console(
    page: Page, token: str, game_id: str, version: int, kept: list[dict[str, Any]]
) -> None:
    """Log in, look the game up, see which versions are between hands (`kept`: the versions
    listed), give the reason, click "Roll back here" twice."""
    page.fill("#login-form input[name=token]", token)
    page.click("#login-form button[type=submit]")
    page.fill("#lookup-form input[name=gameId]", game_id)
    page.click("#lookup-form button[type=submit]")
    box = page.locator("#inspect .versions")
    expect(box).to_be_visible(timeout=WAIT_MS)
    target = box.locator(f'li[data-version="{version}"]')
    expect(target).to_contain_text("hand #1", timeout=WAIT_MS)
    # Which versions are between hands, the safe ones to return to, is said of each.
    for v in kept:
        line = box.locator(f'li[data-version="{v["version"]}"]')
        expect(line).to_have_attribute("data-hand-boundary", str(v["handBoundary"]).lower())
        expect(line).to_contain_text("between hands" if v["handBoundary"] else "mid-hand")
    expect(target).to_have_class("boundary")
    expect(box).to_contain_text("Prefer a version between hands")
    # No reason, no rollback.
    target.locator("button.rollback").click()
    expect(page.locator("#action-note")).to_contain_text("Say why", timeout=WAIT_MS)
    box.locator("input[name=reason]").fill(REASON)
    target.locator("button.rollback").click()
    expect(target.locator("button.rollback")).to_have_text("Really roll back?")
    target.locator("button.rollback").click()
    expect(page.locator("#action-note")).to_contain_text(
        f"Rolled {game_id} back to version {version}", timeout=WAIT_MS
    )


@pytest.mark.timeout(300)
def test_a_rollback_from_the_console_redraws_the_table_and_says_to_which_hand(
    db_server: ServerProcess,
    make_api: Callable[[ServerProcess], Api],
    admin_token: str,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
) -> None:
    server = db_server
    api = make_api(server)
    table = Table.create(api, seats=3, autoNextHand=False, actionTimeoutMs=CLOCK_MS)
    page = open_table(
        context_factory("ann", only_origin=server.url).context, server.url, table.game_id
    )
    ann = join(page, "Ann", table.game_id)
    bob = table.join("Bob")
    base = server.url

    # Hand 1 played to its end (a snapshot is kept there), then hand 2 under way.
    table.start(bob)
    after_one = play(base, ann, bob, until=lambda v: v["toAct"] is None, what="hand 1 over")
    table.start(bob)
    play(base, ann, bob, until=lambda v: v["handNumber"] == 2 and v["phase"] == "flop", what="flop")
    versions = admin(server, admin_token, "GET", f"/api/game/{table.game_id}/versions")["versions"]
    end_of_one = next(
        v for v in versions if v["handNumber"] == 1 and v["phase"] == after_one["phase"]
    )
    before = server_view(base, ann.game_id, ann.session_token)
    assert before["handNumber"] == 2
    assert before["seq"] > end_of_one["version"]

    console = context_factory("operator", only_origin=server.url).new_page()
    console.goto(f"{server.url}/admin")
    assert end_of_one["handBoundary"] is True
    roll_back_in_console(console, admin_token, table.game_id, end_of_one["version"], versions)
    screenshot(console, request, "1-console-rolled-back")

    # The table: the server's view at the end of hand 1 (seq aside), drawn; the log says so.
    after = server_view(base, ann.game_id, ann.session_token)
    assert after["seq"] == before["seq"] + 1
    assert (after["handNumber"], after["phase"]) == (1, after_one["phase"])
    assert [s["stack"] for s in after["seats"]] == [s["stack"] for s in after_one["seats"]]
    wait_drawn_like_server(page, base, ann, WAIT_MS / 1000)
    rolled = [line for line in logged_lines(page) if line[1] == "snapshot_restored"]
    assert rolled == [
        (
            after["seq"],
            "snapshot_restored",
            f"an operator rolled the table back to hand #1: {REASON}",
        )
    ], logged_lines(page)
    assert_exactly_once(
        page, server_seqs(base, ann.game_id, ann.session_token), through=after["seq"], label="Ann"
    )
    screenshot(page, request, "2-table-rolled-back")

    # The game goes on from there: hand 2 dealt again, and the page plays it.
    table.start(bob)
    again = play(base, ann, bob, until=lambda v: v["toAct"] is None, what="hand 2 over again")
    assert again["handNumber"] == 2
    wait_drawn_like_server(page, base, ann, WAIT_MS / 1000)
    assert_exactly_once(
        page, server_seqs(base, ann.game_id, ann.session_token), through=again["seq"], label="Ann"
    )
