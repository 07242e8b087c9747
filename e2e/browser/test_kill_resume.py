"""The original spec's critical test, in real browsers: kill -9 the server in the middle of a
betting round, restart it, and every player is back within 2 s with the server's state; the hand
plays on to its end, and every page has shown every event exactly once.

Also: a browser that goes offline for 3 s while the game goes on gets the missed events, none
twice; and several pages resume at once after a kill.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from e2e.browser.conftest import ContextFactory
from e2e.support.bot_thread import BotsInThread
from e2e.support.browser import screenshot
from e2e.support.spawn import Spawn
from e2e.support.table_page import (
    Seat,
    assert_exactly_once,
    drawn_like_server,
    join,
    logged_events,
    open_table,
    passive_click,
    server_events,
    server_seqs,
    server_view,
    shown_view,
    status,
    wait_connected,
)
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess

RESUME_LIMIT_S = 2.0  # the bound; the goal is 1 s
SLOW_CLOCK_MS = 600_000  # no action clock fires while the test looks at the table
OFFLINE_S = 3.0  # how long the offline browser stays away

# Records, in each page, when #status first reads connected again after it read reconnecting:
# epoch milliseconds, comparable with the test's time.time() (one machine, one clock).
WATCH_RESUME = """() => {
    const status = document.querySelector('#status');
    window.__e2eDropped = false;
    window.__e2eResumedAt = null;
    window.__e2eHistory = [];
    // Ticks of the page's main thread: a gap says the page itself was stalled, not the SDK.
    window.__e2eTicks = [];
    setInterval(() => {
        const now = Date.now(), ticks = window.__e2eTicks;
        if (ticks.length && now - ticks[ticks.length - 1] > 500) {
            window.__e2eHistory.push(`${now} stall of ${now - ticks[ticks.length - 1]} ms`);
        }
        ticks.push(now);
        if (ticks.length > 50) ticks.shift();
    }, 100);
    new MutationObserver(() => {
        window.__e2eHistory.push(
            `${Math.round(performance.timeOrigin + performance.now())} ${status.dataset.status}`
            + ` ${status.dataset.seq} ${status.title}`);
        if (status.dataset.status === 'reconnecting') window.__e2eDropped = true;
        if (window.__e2eDropped && status.dataset.status === 'connected'
                && window.__e2eResumedAt === null) {
            window.__e2eResumedAt = performance.timeOrigin + performance.now();
        }
    }).observe(status, { attributes: true });
}"""


ERASE_TABLE = """() => {
    document.querySelector('#seats').replaceChildren();
    document.querySelector('#hole-cards').replaceChildren();
    document.querySelector('#phase').dataset.phase = 'erased';
    document.querySelector('#table').dataset.viewSeq = 'erased';
}"""


@pytest.fixture
def db_server(db_url: str, spawn: Spawn) -> ServerProcess:
    """A server on SQLite, then on PostgreSQL (the parent conftest's `db_url`)."""
    return spawn(db_url)


@pytest.fixture
def db_api(db_server: ServerProcess, make_api: Callable[[ServerProcess], Api]) -> Api:
    return make_api(db_server)


def create_game(api: Api, **settings: Any) -> str:
    game_id: str = api.create_game(**settings).ok(201)["gameId"]
    return game_id


def seat_pages(
    context_factory: ContextFactory, base_url: str, game_id: str, names: list[str]
) -> list[Seat]:
    """One browser context per player: open every page first (their Pyodide boots overlap),
    then join them in order."""
    pages = [
        open_table(context_factory(name, only_origin=base_url).context, base_url, game_id)
        for name in names
    ]
    return [join(page, name, game_id) for page, name in zip(pages, names, strict=True)]


def drive(seats: list[Seat], until: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Click check/call on whichever page offers it until `until()`."""
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s} s: {what}")
        for seat in seats:
            passive_click(seat.page)
        time.sleep(0.05)


def hand_actions(base_url: str, seat: Seat, hand_number: int) -> int:
    """Player actions (not blinds) in hand `hand_number`, from the server's log."""
    events = server_events(base_url, seat.game_id, seat.session_token)
    started = [e["seq"] for e in events if e["kind"] == "hand_started"]
    if len(started) < hand_number:
        return 0
    first = started[hand_number - 1]
    return sum(1 for e in events if e["seq"] > first and e["kind"] == "action")


def wait_resumed(page: Page, restarted_at_ms: float, seq: int | None = None) -> None:
    """Until the page is connected again; on a timeout, the page's status history since the
    kill (epoch ms, status, seq, reason) says where it was stuck."""
    try:
        wait_connected(page, RESUME_LIMIT_S + 10, seq=seq)
    except AssertionError as error:
        history = page.evaluate("() => window.__e2eHistory")
        lines = "\n".join(
            f"  +{int(line.split()[0]) - restarted_at_ms:.0f} ms {line.split(' ', 1)[1]}"
            for line in history
        )
        raise AssertionError(f"not connected again; status since the kill:\n{lines}") from error


def resumed_after(page: Page, restarted_at_ms: float) -> float:
    resumed_at = page.evaluate("() => window.__e2eResumedAt")
    assert resumed_at is not None, "the page never read connected after the kill"
    return (float(resumed_at) - restarted_at_ms) / 1000


def kill_and_restart(server: ServerProcess, pages: list[Page]) -> tuple[float, float]:
    """kill -9, wait until every page noticed, restart; returns (the restart's epoch ms, the
    seconds the new process took to answer /healthz)."""
    for page in pages:
        page.evaluate(WATCH_RESUME)
    server.kill9()
    for page in pages:
        page.wait_for_function("() => window.__e2eDropped === true", timeout=10_000)
        # Rub out what the page drew before the kill: after the resume it must show the state
        # the welcome brought, not a leftover.
        page.evaluate(ERASE_TABLE)
    restarted_at_ms = time.time() * 1000
    healthy_after = server.restart()
    return restarted_at_ms, healthy_after


def report(label: str, figures: list[float]) -> str:
    ms = sorted(round(f * 1000) for f in figures)
    return (
        f"{label}: median {statistics.median(ms):.0f} ms, max {ms[-1]} ms over {len(ms)} pages "
        f"({', '.join(map(str, ms))})"
    )


@pytest.mark.timeout(300)
def test_kill_9_mid_betting_round_every_browser_is_back_within_2_s(
    db_server: ServerProcess,
    db_api: Api,
    request: pytest.FixtureRequest,
    context_factory: ContextFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, api, base = db_server, db_api, db_server.url
    database = (server.database_url or "?").split(":", 1)[0]
    game_id = create_game(
        api, seats=6, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS, startingStack=200
    )
    people = seat_pages(context_factory, base, game_id, ["ann", "ben", "cat"])
    bots = BotsInThread(base, game_id, ["bot-1", "bot-2", "bot-3"], hands=1)
    bots.start()
    browser_seats = {
        int(server_view(base, game_id, s.session_token)["you"]["seat"]) for s in people
    }
    api.start(game_id, people[0].session_token).ok(200)

    # Into the middle of a betting round: a hand under way, players have acted, and it is a
    # browser's turn (so nobody moves while the server is down).
    def mid_round() -> bool:
        view = server_view(base, game_id, people[0].session_token)
        return (
            view["phase"] in ("preflop", "flop", "turn", "river")
            and view["toAct"] in browser_seats
            and hand_actions(base, people[0], 1) >= 3
        )

    drive(people, mid_round, 60, "a browser's turn after 3 actions of hand 1")
    before = server_view(base, game_id, people[0].session_token)
    for seat in people:
        wait_connected(seat.page, 10, seq=before["seq"])
        screenshot(seat.page, request, f"{seat.name}-before-kill")

    restarted_at_ms, healthy_after = kill_and_restart(server, [s.page for s in people])
    resumed: list[float] = []
    for seat in people:
        wait_resumed(seat.page, restarted_at_ms)
        resumed.append(resumed_after(seat.page, restarted_at_ms))
        view = server_view(base, game_id, seat.session_token)
        assert view["seq"] == before["seq"], "nothing may have moved while the server was down"
        assert status(seat.page) == ("connected", view["seq"])
        assert seat.page.get_attribute("#table", "data-view-seq") == str(view["seq"])
        assert drawn_like_server(seat.page, view), (
            f"{seat.name} shows {shown_view(seat.page)}, the server says {view['phase']} "
            f"{[(s['seat'], s['stack'], s['bet']) for s in view['seats']]}"
        )
        own = view["seats"][[s["seat"] for s in view["seats"]].index(view["you"]["seat"])]
        shown_cards = seat.page.locator("#hole-cards .card").evaluate_all(
            "cards => cards.map(c => c.dataset.card)"
        )
        assert shown_cards == own["holeCards"]
    for seat in people:
        # Presence is not an event: the others' "offline" badges go as they come back.
        try:
            seat.page.wait_for_function(
                "() => document.querySelectorAll('.seat.disconnected').length === 0",
                timeout=10_000,
            )
        except PlaywrightError as error:
            shown = seat.page.evaluate(
                "() => [...document.querySelectorAll('.seat.disconnected')]"
                ".map(s => s.dataset.seat)"
            )
            view = server_view(base, game_id, seat.session_token)
            raise AssertionError(
                f"{seat.name} shows seats {shown} offline; the server: "
                f"{[(s['seat'], s['connected']) for s in view['seats']]}"
            ) from error
        screenshot(seat.page, request, f"{seat.name}-after-resume")
    with capsys.disabled():
        print(
            f"\n[{database}] server healthy {healthy_after * 1000:.0f} ms after the restart; "
            + report("pages connected with the server's state", resumed)
        )
    assert max(resumed) <= RESUME_LIMIT_S, report("resumed", resumed)

    # The hand plays on to its end, and every page saw every event exactly once.
    def hand_over() -> bool:
        return all(any(kind == "hand_ended" for _, kind in logged_events(s.page)) for s in people)

    drive(people, hand_over, 60, "hand 1 ended on every page")
    bots.wait(30)
    final = server_view(base, game_id, people[0].session_token)
    assert final["phase"] == "hand_over"
    for seat in people:
        wait_connected(seat.page, 10, seq=final["seq"])
        assert_exactly_once(
            seat.page,
            server_seqs(base, game_id, seat.session_token),
            through=final["seq"],
            label=seat.name,
        )
    for bot in bots.bots:
        seqs = [int(e["seq"]) for e in bot.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{bot.client.seat}: {seqs}"
        assert not bot.errors, bot.errors


@pytest.mark.timeout(180)
def test_offline_for_3_s_the_missed_events_appear_none_twice(
    server: ServerProcess,
    api: Api,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
) -> None:
    base = server.url
    game_id = create_game(api, seats=3, autoNextHand=True, nextHandDelayMs=1000)
    tracked = context_factory("offline", only_origin=base)
    page = open_table(tracked.context, base, game_id)
    seat = join(page, "ann", game_id)
    bots = BotsInThread(base, game_id, ["bot-1", "bot-2"], hands=3)
    bots.start()
    api.start(game_id, seat.session_token).ok(200)

    # The browser folds at its first turn, so the bots play on without it while it is away.
    def folded() -> bool:
        fold = page.locator("#actions button[data-action=fold]")
        if fold.count() and fold.first.is_visible():
            fold.first.click()
        view = server_view(base, game_id, seat.session_token)
        me = next(s for s in view["seats"] if s["seat"] == view["you"]["seat"])
        return bool(me["folded"])

    wait_for(folded, timeout=30, what="the browser to fold", interval=0.05)
    seen_before = status(page)[1] or 0
    page.evaluate(WATCH_RESUME)
    tracked.context.set_offline(True)
    went_offline = time.monotonic()
    # The page must notice (reconnecting) while the game goes on without it.
    page.wait_for_function("() => window.__e2eDropped === true", timeout=10_000)

    def server_seq() -> int:
        return int(server_view(base, game_id, bots.bots[0].client.session_token or "")["seq"])

    wait_for(
        lambda: server_seq() > seen_before, timeout=30, what="an event while the browser is offline"
    )
    # The rest of the OFFLINE_S away is time let pass on purpose (the scenario: the page retries
    # with its backoff all along, and misses more of the game); nothing is waited for here.
    time.sleep(max(0.0, OFFLINE_S - (time.monotonic() - went_offline)))
    during = server_seq()
    tracked.context.set_offline(False)
    wait_connected(page, 10, seq=during)
    note = page.locator("#resume-note")
    assert note.is_visible()
    assert (
        int(note.get_attribute("data-missed") or 0) > 0
        or note.get_attribute("data-resync") == "true"
    )
    # Let the game go on a little, then compare everything the page showed with the server.
    passive = time.monotonic() + 30
    while not bots.bots[0].done() and time.monotonic() < passive:
        passive_click(page)
        time.sleep(0.05)
    final_seq = server_view(base, game_id, seat.session_token)["seq"]
    wait_connected(page, 10, seq=final_seq)
    assert_exactly_once(
        page, server_seqs(base, game_id, seat.session_token), through=final_seq, label="offline"
    )
    screenshot(page, request, "after-offline")


@pytest.mark.timeout(300)
def test_five_browser_players_resume_at_once_after_a_kill(
    server: ServerProcess,
    api: Api,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = server.url
    game_id = create_game(api, seats=5, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS)
    people = seat_pages(context_factory, base, game_id, ["ann", "ben", "cat", "dan", "eve"])
    api.start(game_id, people[0].session_token).ok(200)
    drive(
        people,
        lambda: hand_actions(base, people[0], 1) >= 2,
        60,
        "two actions of hand 1",
    )
    before = server_view(base, game_id, people[0].session_token)["seq"]
    for seat in people:
        wait_connected(seat.page, 10, seq=before)
    restarted_at_ms, healthy_after = kill_and_restart(server, [s.page for s in people])
    for seat in people:
        wait_resumed(seat.page, restarted_at_ms, seq=before)
    resumed = [resumed_after(seat.page, restarted_at_ms) for seat in people]
    with capsys.disabled():
        print(
            f"\n[5 pages] server healthy {healthy_after * 1000:.0f} ms after the restart; "
            + report("pages connected", resumed)
        )
    assert max(resumed) <= RESUME_LIMIT_S, report("resumed", resumed)
    # Each took its own seat back: the server sees all five connected, and play goes on.
    view = server_view(base, game_id, people[0].session_token)
    assert all(seat["connected"] for seat in view["seats"]), view["seats"]
    drive(people, lambda: hand_actions(base, people[0], 1) >= 4, 60, "two more actions")
    final = server_view(base, game_id, people[0].session_token)["seq"]
    for seat in people:
        wait_connected(seat.page, 10, seq=final)
        assert_exactly_once(
            seat.page,
            server_seqs(base, game_id, seat.session_token),
            through=final,
            label=seat.name,
        )
    screenshot(people[0].page, request, "ann-after-resume")
