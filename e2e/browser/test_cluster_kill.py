"""The kill -9 test of e2e/browser/test_kill_resume.py on a cluster: three nodes on one PostgreSQL
behind HAProxy (e2e/support/cluster.py), three browsers and three SDK bots at one table, all through
the proxy. In the middle of a betting round, on a browser's turn, the node that owns the game is
killed with SIGKILL and stays dead: another node takes the game over (docs/cluster.md). Within
2 s of the kill every page is connected again with the server's state and says the game moved to
that node, and every bot has resumed there; the hand then plays on to its end, and every page and
bot has seen every event exactly once.

Where the players land: HAProxy sends their first reconnects, which fail on the dead node, to
another node at once (`retry-on conn-failure`, `redispatch`), and that node takes the game over.
About half a second later its health checks take the dead node out, and from then on it routes
the game by its consistent-hash ring, which may name a different node: the first request on that
route (here the test's own read of the state) moves the game there too, with a handover (1012)
and one more resume for everyone. The test lets the route settle, then requires every page and bot
on the game's final node within the 2 s, and reports the first and the last welcome of each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Error as PlaywrightError

from e2e.support.bot_thread import BotsInThread
from e2e.support.browser import ContextFactory, screenshot
from e2e.support.cluster import Cluster
from e2e.support.resume import (
    RESUME_LIMIT_S,
    SLOW_CLOCK_MS,
    assert_shows_server_state,
    create_game,
    drive_to_a_browsers_turn,
    history,
    play_hand_to_its_end,
    report,
    seat_pages,
    wait_none_offline,
    wait_resumed,
    watch,
    welcomes_after,
)
from e2e.support.table_page import Seat, server_events, server_view, wait_connected

pytestmark = pytest.mark.postgres

SETTLE_TIMEOUT_S = 10.0  # only how long to wait before failing; the bound is RESUME_LIMIT_S


@dataclass
class BotWelcomes:
    """The bots' welcomes after the kill, each with the seconds since the kill it was seen at
    (polled every 5 ms by `wait`, from this thread: the bots run in their own)."""

    bots: BotsInThread
    killed_at: float  # time.monotonic()
    before: list[int] = field(default_factory=list)
    seen: list[list[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.before = [len(bot.resumes) for bot in self.bots.bots]
        self.seen = [[] for _ in self.bots.bots]

    def poll(self) -> None:
        now = time.monotonic() - self.killed_at
        for number, bot in enumerate(self.bots.bots):
            while len(self.seen[number]) < len(bot.resumes) - self.before[number]:
                self.seen[number].append(now)

    def wait(self, until: Callable[[], bool], what: str) -> float:
        """Poll until `until()`; returns the seconds since the kill it took."""
        while True:
            self.poll()
            if until():
                return time.monotonic() - self.killed_at
            if time.monotonic() - self.killed_at > SETTLE_TIMEOUT_S:
                raise AssertionError(f"not {what} {SETTLE_TIMEOUT_S} s after the kill: {self}")
            time.sleep(0.005)

    def all_on(self, node: str) -> bool:
        return all(
            len(seen) > 0 and bot.resumes[-1].node == node
            for bot, seen in zip(self.bots.bots, self.seen, strict=True)
        )

    def __str__(self) -> str:
        """Each bot's welcomes since the kill: (node, moved, ms after the kill)."""
        lines = []
        for bot, before, seen in zip(self.bots.bots, self.before, self.seen, strict=True):
            figures = zip(bot.resumes[before:], seen, strict=False)
            lines.append(
                f"bot at seat {bot.client.seat}: "
                f"{[(r.node, r.moved, round(at * 1000)) for r, at in figures]}"
            )
        return "; ".join(lines)


def wait_page_on(seat: Seat, node: str, killed_at_ms: float) -> None:
    """Until the page is connected again, welcomed by `node`."""
    try:
        seat.page.wait_for_function(
            """(node) => document.querySelector('#status').dataset.status === 'connected'
                && document.querySelector('#resume-note').dataset.node === node""",
            arg=node,
            timeout=SETTLE_TIMEOUT_S * 1000,
        )
    except PlaywrightError as error:
        raise AssertionError(
            f"{seat.name} not connected to {node}; since the kill:\n"
            f"{history(seat.page, killed_at_ms)}"
        ) from error


def assert_says_moved_to(seat: Seat, node: str) -> float:
    """The page's resume note names `node` as the one that welcomed it, and says the game moved
    there; returns the page's own figure (from its drop to that welcome), in seconds."""
    note = seat.page.locator("#resume-note")
    assert note.is_visible(), f"{seat.name}: no resume note"
    text = note.inner_text()
    assert note.get_attribute("data-node") == node, (seat.name, text)
    assert note.get_attribute("data-moved") == "true", (seat.name, text)
    assert f"on node {node} (moved)" in text, (seat.name, text)
    return int(note.get_attribute("data-ms") or -1) / 1000


@pytest.mark.timeout(180)
def test_kill_9_of_the_games_owner_mid_betting_round_every_page_and_bot_is_back_within_2_s(
    cluster: Cluster,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    base = cluster.proxy.url  # pages, bots and the test's own reads: all through HAProxy
    game_id = create_game(
        cluster.api, seats=6, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS, startingStack=200
    )
    people = seat_pages(context_factory, base, game_id, ["ann", "ben", "cat"])
    bots = BotsInThread(base, game_id, ["bot-1", "bot-2", "bot-3"], hands=1)
    bots.start()
    cluster.api.start(game_id, people[0].session_token).ok(200)
    drive_to_a_browsers_turn(base, people)
    before = server_view(base, game_id, people[0].session_token)
    assert before["toAct"] not in bots.seats, "a browser's turn, so nobody moves meanwhile"
    owner = cluster.owner_of(game_id)
    for seat in people:
        wait_connected(seat.page, 10, seq=before["seq"])
        screenshot(seat.page, request, f"{seat.name}-before-kill")
    for bot in bots.bots:
        assert bot.resumes[-1].node == owner, (owner, bot.resumes)
    set_up_in = time.monotonic() - began

    # kill -9 of the owner, for good.
    watch([seat.page for seat in people])
    killed_at_ms, killed_at = time.time() * 1000, time.monotonic()
    cluster.nodes[owner].kill9()
    welcomes = BotWelcomes(bots, killed_at)
    # Everyone back, wherever the proxy's retries took them.
    welcomes.wait(lambda: all(welcomes.seen), "every bot welcomed")
    for seat in people:
        wait_resumed(seat.page, killed_at_ms)
    # The proxy's health checks take the dead node out: the game's route is final. The first
    # request on it (this read) brings the game to the node it names, if it is not there.
    down_after = welcomes.wait(lambda: cluster.proxy_has_down(owner), "the node out of HAProxy")
    server_view(base, game_id, people[0].session_token)
    new_owner = cluster.owner_of(game_id)
    assert new_owner != owner, f"the game is still owned by the killed node {owner}"
    welcomes.wait(lambda: welcomes.all_on(new_owner), f"every bot on {new_owner}")
    for seat in people:
        wait_page_on(seat, new_owner, killed_at_ms)

    # Every page shows the server's state for its seat, and that the game moved to new_owner.
    page_welcomes = [welcomes_after(seat.page, killed_at_ms) for seat in people]
    page_figures = []
    for seat in people:
        assert_shows_server_state(base, seat, before["seq"])
        page_figures.append(assert_says_moved_to(seat, new_owner))
        wait_none_offline(base, seat)
        screenshot(seat.page, request, f"{seat.name}-after-resume")
    for bot in bots.bots:
        assert (bot.resumes[-1].node, bot.resumes[-1].moved) == (new_owner, True), bot.resumes
    first = [w[0] for w in page_welcomes] + [s[0] for s in welcomes.seen]
    last = [w[-1] for w in page_welcomes] + [s[-1] for s in welcomes.seen]
    with capsys.disabled():
        print(
            f"\n[cluster] set up in {set_up_in:.1f} s; killed {owner}, HAProxy had it down "
            f"{down_after * 1000:.0f} ms later, the game is on {new_owner}; from the kill, "
            + report("first welcome", first, "pages and bots")
            + "; "
            + report("on the final node", last, "pages and bots")
            + f"; welcomes per page {[len(w) for w in page_welcomes]}, per bot "
            f"{[len(s) for s in welcomes.seen]}; the pages' own figures (drop to last "
            f"welcome): {[round(f * 1000) for f in page_figures]} ms"
        )
    assert max(last) <= RESUME_LIMIT_S, (
        report("on the final node", last, "pages and bots")
        + "\n"
        + "\n".join(f"{seat.name}:\n{history(seat.page, killed_at_ms)}" for seat in people)
        + f"\n{welcomes}"
    )

    # The play goes on on the new node, the browser whose turn it was first, to the hand's end;
    # every page and every bot saw every event exactly once.
    play_hand_to_its_end(base, people, bots)
    log = server_events(base, game_id, people[0].session_token)
    first_after = next(e for e in log if e["seq"] > before["seq"] and e["kind"] == "action")
    assert first_after["data"]["seat"] == before["toAct"], first_after
    assert cluster.owner_of(game_id) == new_owner
    with capsys.disabled():
        print(f"[cluster] {time.monotonic() - began:.1f} s from creating the table to the end")
