"""What the kill -9 browser tests share (e2e/browser/test_kill_resume.py on one server,
e2e/browser/test_cluster_kill.py on a cluster behind HAProxy): seating pages, driving the play to
the middle of a betting round, watching each page drop and come back, and checking that a page
that came back shows the server's state.

- `WATCH_RESUME` (evaluate it in each page before the kill): records in the page when `#status`
  first reads connected again after reconnecting (`window.__e2eResumedAt`, epoch ms, comparable
  with this process's `time.time()`: one machine, one clock), each time it does
  (`window.__e2eWelcomes`), every change of `#status`
  (`window.__e2eHistory`), stalls of the page's main thread, and rubs out the drawn table (on
  the generic page: the view's tables and the forms) the moment the page drops: after the resume
  it must show the state its welcome brought, not a leftover.
- `kill_and_restart(server, pages)`: kill -9 the server once every page is watched, wait until
  each page dropped, paused under its overlay, restart it.
- `paused_at_drop(page)`: whether the page showed its outage overlay the moment it dropped, and
  the controls of the game it still had enabled then (none, if it paused).
- `wait_dropped(pages)`, `wait_resumed(page, since_ms)`, `resumed_after(page, since_ms)` (the
  first connected after the drop), `welcomes_after(page, since_ms)` (each of them).
- `assert_shows_server_state(base, seat, seq)`, `wait_none_offline(base, seat)`: a page that came
  back is no longer paused (`#outage` gone), draws the server's view for its seat (phase, stacks,
  bets, its own cards) at `seq`, and sees every other player back.
- `play_hand_to_its_end(base, people, bots)`: the pages click check/call until the hand ended
  on every page, the bots finish; then every page and every bot saw every event exactly once.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from e2e.support.bot_thread import BotsInThread
from e2e.support.browser import ContextFactory
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
from rejoin.bots.bot import Bot
from rejoin_testkit.api import Api
from rejoin_testkit.processes import ServerProcess

RESUME_LIMIT_S = 2.0  # the bound; the goal is 1 s
SLOW_CLOCK_MS = 600_000  # no action clock fires while the test looks at the table

WATCH_RESUME = """() => {
    const status = document.querySelector('#status');
    window.__e2eDropped = false;
    window.__e2eResumedAt = null;
    window.__e2eWelcomes = [];  // every connected after the drop (a game may move twice)
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
    const note = document.querySelector('#resume-note');
    let was = status.dataset.status;
    new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now();
        // The resume note is written just before #status says connected: its node is the one
        // that welcomed the page.
        const welcomed = status.dataset.status === 'connected' && !note.hidden
            ? ` (${note.textContent})` : '';
        window.__e2eHistory.push(
            `${Math.round(performance.timeOrigin + performance.now())} ${status.dataset.status}`
            + ` ${status.dataset.seq} ${status.title}${welcomed}`);
        if (status.dataset.status === 'reconnecting' && !window.__e2eDropped) {
            window.__e2eDropped = true;
            // How the page looks the moment it drops: paused under its overlay, no control
            // of the game taking clicks.
            window.__e2ePaused = {
                overlay: !document.querySelector('#outage').hidden,
                enabled: [...document.querySelectorAll(
                    '#actions button, #actions input, #actions select, #start')]
                    .filter((c) => !c.disabled).map((c) => c.outerHTML),
            };
            // Before anything else can happen in the page (this runs as a microtask right after
            // the status changed): the welcome must draw the table again from nothing. The
            // generic page (any kind but poker) draws the view as tables and forms instead.
            const generic = document.body.dataset.page === 'generic';
            const drawn = generic ? ['seats', 'you', 'view-fields', 'view-json', 'actions']
                : ['seats', 'hole-cards'];
            for (const id of drawn) document.getElementById(id).replaceChildren();
            if (!generic) document.querySelector('#phase').dataset.phase = 'erased';
            document.querySelector('#table').dataset.viewSeq = 'erased';
        }
        if (window.__e2eDropped && status.dataset.status === 'connected' && was !== 'connected') {
            window.__e2eWelcomes.push(now);
            if (window.__e2eResumedAt === null) window.__e2eResumedAt = now;
        }
        was = status.dataset.status;
    }).observe(status, { attributes: true });
}"""


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


def drive_to_a_browsers_turn(base_url: str, people: list[Seat], actions: int = 3) -> None:
    """Into the middle of a betting round: hand 1 under way, `actions` player actions taken, and
    it is a browser's turn (so nobody moves while the server is gone: the bots only act on their
    own turn, and the test clicks nothing until it checked the pages)."""
    first = people[0]
    browser_seats = {
        int(server_view(base_url, first.game_id, s.session_token)["you"]["seat"]) for s in people
    }

    def mid_round() -> bool:
        view = server_view(base_url, first.game_id, first.session_token)
        return (
            view["phase"] in ("preflop", "flop", "turn", "river")
            and view["toAct"] in browser_seats
            and hand_actions(base_url, first, 1) >= actions
        )

    drive(people, mid_round, 60, f"a browser's turn after {actions} actions of hand 1")


def watch(pages: list[Page]) -> None:
    """Start `WATCH_RESUME` in every page (before the kill)."""
    for page in pages:
        page.evaluate(WATCH_RESUME)


def wait_dropped(pages: list[Page], timeout_s: float = 10) -> None:
    """Until every watched page has read reconnecting (and so rubbed out its table)."""
    for page in pages:
        page.wait_for_function("() => window.__e2eDropped === true", timeout=timeout_s * 1000)


def paused_at_drop(page: Page) -> tuple[bool, list[str]]:
    """(the overlay showed, the controls still enabled) the moment the watched page dropped."""
    seen: dict[str, Any] = page.evaluate("() => window.__e2ePaused")
    return bool(seen["overlay"]), list(seen["enabled"])


def kill_and_restart(server: ServerProcess, pages: list[Page]) -> tuple[float, float]:
    """kill -9, wait until every page noticed (and rubbed out its table) and paused under its
    overlay, restart; returns (the restart's epoch ms, the seconds the new process took to answer
    /healthz)."""
    watch(pages)
    server.kill9()
    wait_dropped(pages)
    restarted_at_ms = time.time() * 1000
    healthy_after = server.restart()
    # Read after the restart (checking while the server is down would delay it): each page paused
    # under its overlay the moment it dropped, no control of the game taking clicks.
    for page in pages:
        overlay, enabled = paused_at_drop(page)
        assert overlay, "no outage overlay when the page dropped"
        assert not enabled, f"controls took clicks while reconnecting: {enabled}"
    return restarted_at_ms, healthy_after


def history(page: Page, since_ms: float) -> str:
    """The page's `#status` changes (and main-thread stalls) since `since_ms`, one a line."""
    lines: list[str] = page.evaluate("() => window.__e2eHistory")
    return "\n".join(
        f"  +{int(line.split()[0]) - since_ms:.0f} ms {line.split(' ', 1)[1]}" for line in lines
    )


def wait_resumed(page: Page, since_ms: float, seq: int | None = None) -> None:
    """Until the page is connected again; on a timeout, the page's status history since
    `since_ms` (epoch ms: the kill, or the restart) says where it was stuck."""
    try:
        wait_connected(page, RESUME_LIMIT_S + 10, seq=seq)
    except AssertionError as error:
        raise AssertionError(
            f"not connected again; status since then:\n{history(page, since_ms)}"
        ) from error


def resumed_after(page: Page, since_ms: float) -> float:
    """Seconds from `since_ms` (epoch ms) to the page's first connected after its drop."""
    resumed_at = page.evaluate("() => window.__e2eResumedAt")
    assert resumed_at is not None, "the page never read connected after the drop"
    return (float(resumed_at) - since_ms) / 1000


def welcomes_after(page: Page, since_ms: float) -> list[float]:
    """Seconds from `since_ms` (epoch ms) to each time the page read connected after its drop."""
    times: list[float] = page.evaluate("() => window.__e2eWelcomes")
    return [(float(at) - since_ms) / 1000 for at in times]


def report(label: str, figures: list[float], what: str = "pages") -> str:
    ms = sorted(round(f * 1000) for f in figures)
    return (
        f"{label}: median {statistics.median(ms):.0f} ms, max {ms[-1]} ms over {len(ms)} {what} "
        f"({', '.join(map(str, ms))})"
    )


def assert_shows_server_state(base_url: str, seat: Seat, seq: int) -> dict[str, Any]:
    """The page is connected at the server's seq, which is still `seq`, and draws the server's
    view for its seat: phase, every seat's stack and bet, its own hole cards. Returns the view."""
    view = server_view(base_url, seat.game_id, seat.session_token)
    assert view["seq"] == seq, "nothing may have moved while the server was gone"
    shown = status(seat.page)
    assert shown == ("connected", view["seq"]), f"{seat.name}: {shown}, the server at {view['seq']}"
    assert not seat.page.locator("#outage").is_visible(), f"{seat.name}: still paused"
    drawn_seq = seat.page.get_attribute("#table", "data-view-seq")
    assert drawn_seq == str(view["seq"]), f"{seat.name}: drew {drawn_seq}, not {view['seq']}"
    assert drawn_like_server(seat.page, view), (
        f"{seat.name} shows {shown_view(seat.page)}, the server says {view['phase']} "
        f"{[(s['seat'], s['stack'], s['bet']) for s in view['seats']]}"
    )
    own = view["seats"][[s["seat"] for s in view["seats"]].index(view["you"]["seat"])]
    shown_cards = seat.page.locator("#hole-cards .card").evaluate_all(
        "cards => cards.map(c => c.dataset.card)"
    )
    assert shown_cards == own["holeCards"]
    return view


def wait_none_offline(base_url: str, seat: Seat, timeout_s: float = 10) -> None:
    """Presence is not an event: the others' "offline" badges go as they come back."""
    try:
        seat.page.wait_for_function(
            "() => document.querySelectorAll('.seat.disconnected').length === 0",
            timeout=timeout_s * 1000,
        )
    except PlaywrightError as error:
        shown = seat.page.evaluate(
            "() => [...document.querySelectorAll('.seat.disconnected')].map(s => s.dataset.seat)"
        )
        view = server_view(base_url, seat.game_id, seat.session_token)
        raise AssertionError(
            f"{seat.name} shows seats {shown} offline; the server: "
            f"{[(s['seat'], s['connected']) for s in view['seats']]}"
        ) from error


def assert_bots_saw_every_event_once(base_url: str, bots: list[Bot]) -> None:
    """Each bot saw no error, and its stream is gapless, without a repeat, and the server's log
    (in the bot's own visibility) from the bot's first event on."""
    for bot in bots:
        assert not bot.errors, bot.errors
        seqs = [int(e["seq"]) for e in bot.events]
        assert seqs, f"{bot.client.seat}: no event"
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{bot.client.seat}: {seqs}"
        log = server_events(base_url, bot.client.game_id, bot.client.session_token or "")
        from_first = [(e["seq"], e["kind"]) for e in log if seqs[0] <= e["seq"] <= seqs[-1]]
        assert [(e["seq"], e["kind"]) for e in bot.events] == from_first, bot.client.seat


def play_hand_to_its_end(base_url: str, people: list[Seat], bots: BotsInThread) -> dict[str, Any]:
    """The pages play (check or call) until hand 1 ended on every page, and the bots finish; then
    every page shows every event of the server's log exactly once through the final seq, and every
    bot saw its stream exactly once (`assert_bots_saw_every_event_once`). Returns the final view."""

    def hand_over() -> bool:
        return all(any(kind == "hand_ended" for _, kind in logged_events(s.page)) for s in people)

    drive(people, hand_over, 60, "hand 1 ended on every page")
    bots.wait(30)
    first = people[0]
    final = server_view(base_url, first.game_id, first.session_token)
    assert final["phase"] == "hand_over"
    for seat in people:
        wait_connected(seat.page, 10, seq=final["seq"])
        assert_exactly_once(
            seat.page,
            server_seqs(base_url, seat.game_id, seat.session_token),
            through=final["seq"],
            label=seat.name,
        )
    assert_bots_saw_every_event_once(base_url, bots.bots)
    return final
