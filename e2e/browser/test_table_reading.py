"""The poker table page as a person reads it, in real Chromium against a real server process:
`#status` says `unseated` while the join form waits for a name; seats are counted from 1 on the
table and in the log; the log reads like a poker log, with names ("bob raises to 8"); the bets of
the street stand in front of each seat until the street ends. And when the server is killed with
SIGKILL the table pauses at once under an overlay (the seat is kept, the buttons are disabled, the
action clock keeps counting to its real deadline) and comes back when the server does.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.support.browser import ContextFactory, screenshot
from e2e.support.table_page import (
    BOOT_TIMEOUT_S,
    Seat,
    join,
    logged_lines,
    open_table,
    passive_click,
    server_events,
    server_view,
    status,
    wait_connected,
    wait_status,
)
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player

STEP_MS = 15_000
OUTAGE_SHOWN_WITHIN_MS = 1_000  # from the kill to the overlay on the page
CLOCK_MS = 120_000  # an action clock that shows, and cannot run out while the test looks

# Records in the page when `#outage` shows and goes (epoch ms, comparable with this process's
# `time.time()`: one machine, one clock).
WATCH_OUTAGE = """() => {
    const overlay = document.querySelector('#outage');
    window.__e2eOutage = [];
    new MutationObserver(() => {
        window.__e2eOutage.push([overlay.hidden ? 'hidden' : 'shown',
            performance.timeOrigin + performance.now()]);
    }).observe(overlay, { attributes: true, attributeFilter: ['hidden'] });
}"""


def seat_bets(page: Page) -> dict[int, tuple[int, str, bool]]:
    """Each occupied seat's drawn bet: (data-bet, its text, whether it is visible)."""
    rows: list[list[Any]] = page.evaluate(
        """() => [...document.querySelectorAll('.seat[data-seat]')]
            .filter(s => s.dataset.playerId)
            .map(s => { const b = s.querySelector('.bet');
                        return [Number(s.dataset.seat), Number(b.dataset.bet), b.textContent,
                                b.offsetParent !== null]; })"""
    )
    return {int(seat): (int(bet), str(text), bool(shown)) for seat, bet, text, shown in rows}


def wait_bets(page: Page, bets: dict[int, int]) -> None:
    """Until the page draws exactly `bets` (seat -> chips; every other seat 0)."""
    wait_for(
        lambda: {s: b for s, (b, _, _) in seat_bets(page).items() if b} == bets,
        timeout=STEP_MS / 1000,
        what=f"the page to show the bets {bets}",
        interval=0.05,
        detail=lambda: f"drawn: {seat_bets(page)}",
    )


def act_until(
    base: str, me: Seat, others: dict[int, Player], *, decide: Any, until: Any, what: str
) -> None:
    """Play: the page clicks check/call on its turn, the HTTP players do what `decide(player,
    view)` says (a (type, amount) pair), until `until(view)`."""
    deadline = time.monotonic() + 60
    while True:
        view = server_view(base, me.game_id, me.session_token)
        if until(view):
            return
        assert time.monotonic() < deadline, f"not reached: {what}; the server: {view}"
        actor = view["toAct"]
        if actor in others:
            player = others[actor]
            type_, amount = decide(player, player.view())
            player.act(type_, amount).ok(200)
        elif actor is not None:
            passive_click(me.page)
        time.sleep(0.05)


def passive(player: Player, view: dict[str, Any]) -> tuple[str, int | None]:
    legal = {a["type"] for a in view["you"]["legalActions"]}
    return ("check", None) if "check" in legal else ("call", None)


def assert_reads_like_a_poker_log(
    lines: list[tuple[int, str, str]], names: dict[int, str], hand: dict[str, Any], raiser: int
) -> None:
    """The log of a hand checked down after one raise to 8: names, seats from 1, poker words."""
    words = [text for _, _, text in lines]
    by_kind: dict[str, list[str]] = {}
    for _, kind, text in lines:
        by_kind.setdefault(kind, []).append(text)
    report = "\n".join(f"#{seq} {kind}: {text}" for seq, kind, text in lines)
    assert by_kind["player_joined"] == [
        "alice sits down at seat 1 with 200 chips",
        f"{names[1]} sits down at seat 2 with 200 chips",
        f"{names[2]} sits down at seat 3 with 200 chips",
    ], report
    assert by_kind["hand_started"] == [f"hand #1 begins; {names[hand['button']]} has the button"]
    assert by_kind["blind_posted"] == [
        f"{names[hand['sb']]} posts the small blind 1",
        f"{names[hand['bb']]} posts the big blind 2",
    ], report
    assert f"{names[raiser]} raises to 8" in words, report
    assert any(re.fullmatch(r"alice (checks|calls \d+)", w) for w in words), report
    assert [w.split(":")[0] for w in by_kind["street"]] == ["the flop", "the turn", "the river"]
    assert all(" shows " in w for w in by_kind["showdown"]), report
    who = "|".join(names.values())
    for won in by_kind["pot_awarded"]:
        assert re.fullmatch(rf"({who}) wins \d+ with .+|the pot of \d+ is split: .+", won), won
    assert by_kind["hand_ended"] == ["hand #1 is over"], report
    # No line is a raw summary, and every seat number a person reads counts from 1.
    for text in words:
        assert not re.match(r"^[a-z_]+:", text), text
        for number in re.findall(r"\bseat (\d+)", text):
            assert 1 <= int(number) <= 3, text


@pytest.mark.timeout(240)
def test_unseated_then_a_hand_reads_like_a_poker_log_with_the_street_bets_on_the_table(
    context_factory: ContextFactory,
    server: ServerProcess,
    api: Api,
    request: pytest.FixtureRequest,
) -> None:
    game_id = api.create_game(seats=3, actionTimeoutMs=CLOCK_MS, autoNextHand=False).ok(201)[
        "gameId"
    ]
    tracked = context_factory("alice", only_origin=server.url)
    page = open_table(tracked.context, server.url, game_id)

    # Before joining: not seated, and the tooltip says so in words.
    page.locator("#join-form input[name=name]").wait_for(
        state="visible", timeout=BOOT_TIMEOUT_S * 1000
    )
    assert status(page) == ("unseated", None)
    assert page.locator("#status").inner_text() == "not seated"
    assert "no seat" in (page.locator("#status").get_attribute("title") or "")
    screenshot(page, request, "unseated")

    me = join(page, "alice", game_id)
    others = {p.seat: p for p in (Player.joined(api, game_id, n) for n in ("bob", "carol"))}
    names = {0: "alice", **{seat: p.name for seat, p in others.items()}}
    assert sorted(names) == [0, 1, 2]
    # Seats read from 1 on the table; data-seat stays the API's number.
    page.wait_for_function("() => document.querySelectorAll('.seat[data-player-id]').length >= 3")
    for seat in range(3):
        label = page.locator(f'.seat[data-seat="{seat}"] .seat-no').inner_text()
        assert label == f"seat {seat + 1}", label

    started = api.start(game_id, me.session_token).ok(200)
    wait_connected(page, STEP_MS / 1000, seq=int(started["seq"]))
    hand = next(
        e
        for e in server_events(server.url, game_id, me.session_token)
        if e["kind"] == "hand_started"
    )["data"]
    sb, bb = hand["sb"], hand["bb"]
    # The blinds are bets of the street: in front of their seats, as "bet N".
    wait_bets(page, {sb: 1, bb: 2})
    assert seat_bets(page)[bb][1:] == ("bet 2", True)

    # Preflop: the first HTTP player to act raises to 8, everyone else checks or calls.
    raised: list[int] = []

    def raise_once(player: Player, view: dict[str, Any]) -> tuple[str, int | None]:
        legal = {a["type"] for a in view["you"]["legalActions"]}
        if not raised and "raise" in legal:
            raised.append(player.seat)
            return "raise", 8
        return passive(player, view)

    act_until(
        server.url, me, others, decide=raise_once, until=lambda v: bool(raised), what="a raise to 8"
    )
    raiser = raised[0]
    wait_for(
        lambda: seat_bets(page).get(raiser, (0, "", False)) == (8, "bet 8", True),
        timeout=STEP_MS / 1000,
        what="the raiser's bet of 8 on the table",
        detail=lambda: f"drawn: {seat_bets(page)}",
    )
    screenshot(page, request, "preflop-bets")
    # The street ends: the bets are cleared.
    act_until(
        server.url,
        me,
        others,
        decide=passive,
        until=lambda v: v["phase"] != "preflop",
        what="the flop",
    )
    wait_bets(page, {})
    assert not any(shown for _, _, shown in seat_bets(page).values())

    # Checked down to the showdown.
    act_until(
        server.url,
        me,
        others,
        decide=passive,
        until=lambda v: v["phase"] == "hand_over",
        what="the hand's end",
    )
    final_seq = server_view(server.url, game_id, me.session_token)["seq"]
    wait_connected(page, STEP_MS / 1000, seq=final_seq)
    screenshot(page, request, "hand-over")

    assert_reads_like_a_poker_log(logged_lines(page), names, hand, raiser)


def assert_paused(page: Page, deadline: str) -> int:
    """While the overlay shows: the seat is said to be kept, the status says why in plain words,
    every action button is disabled, and the clock counts on to the same deadline. Returns the
    seconds the clock shows."""
    overlay = page.locator("#outage")
    assert "seat is kept" in overlay.inner_text(), overlay.inner_text()
    assert status(page)[0] == "reconnecting"
    title = page.locator("#status").get_attribute("title") or ""
    assert "seat is kept" in title, title
    assert not re.search(r"\d{4}|closed with", title), title
    assert page.locator("#table").get_attribute("data-paused") == "true"
    buttons = page.locator("#actions button")
    assert buttons.count() > 0, "the buttons went away instead of pausing"
    assert all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    assert page.locator("#clock").get_attribute("data-deadline") == deadline
    shown = int(page.locator("#clock").inner_text().removesuffix(" s"))
    expected = (int(deadline) - time.time() * 1000) / 1000
    assert abs(shown - expected) <= 2, (shown, expected)
    outage_clock = page.locator("#outage-clock").inner_text()
    assert re.fullmatch(r"Your turn: \d+ s left \(the clock keeps running\)\.", outage_clock), (
        outage_clock
    )
    return shown


@pytest.mark.timeout(240)
def test_a_kill_9_pauses_the_table_under_an_overlay_within_1_s_until_the_server_is_back(
    context_factory: ContextFactory,
    server: ServerProcess,
    api: Api,
    request: pytest.FixtureRequest,
) -> None:
    game_id = api.create_game(seats=2, actionTimeoutMs=CLOCK_MS, autoNextHand=False).ok(201)[
        "gameId"
    ]
    tracked = context_factory("paused", only_origin=server.url)
    page = open_table(tracked.context, server.url, game_id)
    me = join(page, "alice", game_id)
    bob = Player.joined(api, game_id, "bob")
    api.start(game_id, me.session_token).ok(200)
    # To the page's turn: its buttons are on show, and its clock runs.
    act_until(
        server.url,
        me,
        {bob.seat: bob},
        decide=passive,
        until=lambda v: v["toAct"] == 0,
        what="alice's turn",
    )
    view = server_view(server.url, game_id, me.session_token)
    wait_connected(page, STEP_MS / 1000, seq=view["seq"])
    buttons = page.locator("#actions button")
    buttons.first.wait_for(timeout=STEP_MS)
    assert all(buttons.nth(i).is_enabled() for i in range(buttons.count()))
    assert not page.locator("#outage").is_visible()
    deadline = page.locator("#clock").get_attribute("data-deadline")
    assert deadline == str(view["actionDeadline"]), (deadline, view["actionDeadline"])
    page.evaluate(WATCH_OUTAGE)

    killed_at_ms = time.time() * 1000
    server.kill9()
    overlay = page.locator("#outage")
    overlay.wait_for(state="visible", timeout=5_000)
    shown_at = page.evaluate("() => window.__e2eOutage.find(([what]) => what === 'shown')[1]")
    after_ms = shown_at - killed_at_ms
    assert after_ms <= OUTAGE_SHOWN_WITHIN_MS, f"the overlay came {after_ms:.0f} ms after the kill"
    print(f"\n[outage] overlay shown {after_ms:.0f} ms after kill -9")

    first = assert_paused(page, deadline or "")
    screenshot(page, request, "outage")
    # Still paused a little later (the server is still down), and the clock went on.
    page.wait_for_function(
        "(before) => Number(document.querySelector('#clock').textContent.split(' ')[0]) < before",
        arg=first,
        timeout=5_000,
    )
    assert all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    assert overlay.is_visible()

    server.restart()
    wait_status(page, "connected", 15)
    overlay.wait_for(state="hidden", timeout=5_000)
    assert page.locator("#table").get_attribute("data-paused") == "false"
    page.locator("#actions button").first.wait_for(timeout=STEP_MS)
    again = page.locator("#actions button")
    assert all(again.nth(i).is_enabled() for i in range(again.count()))
    # The game's clock did not stop or start over while the server was gone: the same deadline.
    assert page.locator("#clock").get_attribute("data-deadline") == deadline
    screenshot(page, request, "resumed")
    # And the page plays on: its click reaches the server.
    before = server_view(server.url, game_id, me.session_token)["seq"]
    assert passive_click(page) in ("check", "call")
    wait_for(
        lambda: server_view(server.url, game_id, me.session_token)["seq"] > before,
        timeout=STEP_MS / 1000,
        what="the click after the resume to reach the server",
    )
