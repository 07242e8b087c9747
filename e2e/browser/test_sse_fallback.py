"""The demo page where no WebSocket gets through (issue 19): a proxy or firewall that refuses the
upgrade. Every WebSocket the pages open to the game is answered by Playwright's route, which
closes it without ever reaching the server; plain HTTP goes through.

The pages (the SDK's `transport="auto"`) fall back to SSE and say so in `#status`, play a hand
over it against an SDK bot, and survive the server killed -9 and restarted: back with the
server's state within 2 s of the restart, every event shown exactly once. `?transport=sse` on the
address takes SSE from the start, without trying a WebSocket; a WebSocket that opens and stays
silent gives way to SSE too; and a page that lets go of its stream (offline) aborts it.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import BrowserContext, Page, Route, WebSocketRoute

from e2e.support.bot_thread import BotsInThread
from e2e.support.browser import ContextFactory, screenshot
from e2e.support.resume import (
    RESUME_LIMIT_S,
    SLOW_CLOCK_MS,
    assert_shows_server_state,
    create_game,
    drive_to_a_browsers_turn,
    kill_and_restart,
    play_hand_to_its_end,
    report,
    resumed_after,
    wait_none_offline,
    wait_resumed,
)
from e2e.support.table_page import (
    Seat,
    assert_exactly_once,
    join,
    open_table,
    server_seqs,
    server_view,
    wait_connected,
)
from rejoin_testkit.api import Api
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess

GAME_WEBSOCKET = re.compile(r"/api/game/[^/?]+/ws(\?.*)?$")
# rejoin.browser.sse_link.REQUEST_TIMEOUT_S (that module imports Pyodide's `js`: not here).
REQUEST_TIMEOUT_S = 10.0
# Generous: an aborted stream ends on the server in milliseconds; one left open, when TCP gives
# up (minutes).
ABORT_SEEN_S = 10.0


def block_websockets(context: BrowserContext) -> list[str]:
    """Refuse every game WebSocket of `context` as a blocking proxy would: closed at once, never
    connected to the server. Returns the list of URLs refused so far (it grows)."""
    refused: list[str] = []

    def refuse(socket: WebSocketRoute) -> None:
        refused.append(socket.url)
        socket.close(code=1011, reason="WebSocket upgrades are blocked on this network")

    context.route_web_socket(GAME_WEBSOCKET, refuse)
    return refused


def transport_shown(page: Page) -> tuple[str | None, str]:
    """`#status`'s data-transport and its text."""
    status = page.locator("#status")
    return status.get_attribute("data-transport"), status.inner_text()


def assert_over_sse(seat: Seat) -> None:
    shown, text = transport_shown(seat.page)
    assert shown == "sse", f"{seat.name}: #status says {text!r} (transport {shown!r})"
    assert "over SSE" in text, text


@pytest.mark.timeout(300)
def test_websockets_blocked_the_page_plays_over_sse_and_is_back_within_2_s_of_a_kill_9(
    db_server: ServerProcess,
    db_api: Api,
    request: pytest.FixtureRequest,
    context_factory: ContextFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, base = db_server, db_server.url
    database = (server.database_url or "?").split(":", 1)[0]
    game_id = create_game(
        db_api, seats=3, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS, startingStack=200
    )
    refused: dict[str, list[str]] = {}
    pages: list[tuple[str, Page]] = []
    for name in ("ann", "ben"):
        tracked = context_factory(name, only_origin=base)
        refused[name] = block_websockets(tracked.context)
        pages.append((name, open_table(tracked.context, base, game_id)))
    people = [join(page, name, game_id) for name, page in pages]
    for seat in people:
        assert refused[seat.name], f"{seat.name}'s page never tried a WebSocket (auto tries first)"
        assert_over_sse(seat)
    bots = BotsInThread(base, game_id, ["bot-1"], hands=1)
    bots.start()
    db_api.start(game_id, people[0].session_token).ok(200)

    # Actions go over HTTP: the pages play into the middle of a betting round.
    drive_to_a_browsers_turn(base, people, actions=2)
    before = server_view(base, game_id, people[0].session_token)
    for seat in people:
        wait_connected(seat.page, 10, seq=before["seq"])
        assert_over_sse(seat)

    restarted_at_ms, healthy_after = kill_and_restart(server, [s.page for s in people])
    resumed: list[float] = []
    for seat in people:
        wait_resumed(seat.page, restarted_at_ms)
        resumed.append(resumed_after(seat.page, restarted_at_ms))
        assert_shows_server_state(base, seat, before["seq"])
        assert_over_sse(seat)
        note = seat.page.locator("#resume-note")
        assert note.get_attribute("data-transport") == "sse", note.inner_text()
        assert "over SSE" in note.inner_text(), note.inner_text()
    for seat in people:
        wait_none_offline(base, seat)
        screenshot(seat.page, request, f"{seat.name}-after-resume")
    with capsys.disabled():
        print(
            f"\n[{database}, SSE] server healthy {healthy_after * 1000:.0f} ms after the restart; "
            + report("pages connected with the server's state", resumed)
            + "; "
            + report("after /healthz answered", [r - healthy_after for r in resumed])
        )
    assert max(resumed) <= RESUME_LIMIT_S, report("resumed", resumed)

    # The hand plays on to its end over SSE, and every page and the bot saw every event once.
    play_hand_to_its_end(base, people, bots)
    for seat in people:
        assert_over_sse(seat)


@pytest.mark.timeout(180)
def test_transport_sse_in_the_address_takes_sse_without_trying_a_websocket(
    server: ServerProcess, context_factory: ContextFactory, api: Api
) -> None:
    base = server.url
    game_id = create_game(api, seats=2)
    tracked = context_factory("forced", only_origin=base)
    page = tracked.new_page()
    page.goto(f"{base}/play/{game_id}?transport=sse")
    seat = join(page, "ann", game_id)
    assert_over_sse(seat)
    sockets = [entry.url for entry in tracked.requests.entries if entry.kind == "websocket"]
    assert not sockets, f"?transport=sse opened WebSockets: {sockets}"
    tooltip = page.locator("#status").get_attribute("title") or ""
    assert "SSE" in tooltip, tooltip
    assert "Play is the same" in tooltip, tooltip


@pytest.mark.timeout(180)
def test_a_websocket_that_opens_and_passes_nothing_gives_way_to_sse(
    server: ServerProcess, context_factory: ContextFactory, api: Api
) -> None:
    """A proxy that accepts the upgrade and then passes nothing: the page's WebSocket opens, its
    `hello` is never answered. The SDK gives it `WS_OPEN_TIMEOUT_S` to bring a frame, then takes
    SSE (a page waiting on it for ever would never seat its player)."""
    base = server.url
    game_id = create_game(api, seats=2)
    tracked = context_factory("silent", only_origin=base)
    accepted: list[str] = []
    # The route neither closes the socket nor connects it to the server: open, and silent.
    tracked.context.route_web_socket(GAME_WEBSOCKET, lambda socket: accepted.append(socket.url))
    seat = join(open_table(tracked.context, base, game_id), "ann", game_id)
    assert accepted, "the page never tried a WebSocket (auto tries first)"
    assert_over_sse(seat)


@pytest.mark.timeout(180)
def test_a_websocket_refused_once_takes_the_page_to_sse_and_a_probe_brings_it_back(
    server: ServerProcess, context_factory: ContextFactory, api: Api
) -> None:
    """The first upgrade refused, the later ones through (a browser cannot tell a server that
    refused while it restarted from a blocked network): the page falls back to SSE, its probe
    gets through, and it resumes over the WebSocket, every event once."""
    base = server.url
    game_id = create_game(api, seats=2, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS)
    tracked = context_factory("refused-once", only_origin=base)
    dials: list[str] = []

    def refuse_once(socket: WebSocketRoute) -> None:
        dials.append(socket.url)
        if len(dials) == 1:
            socket.close(code=1011, reason="refused this once")
        else:
            socket.connect_to_server()

    tracked.context.route_web_socket(GAME_WEBSOCKET, refuse_once)
    seat = join(open_table(tracked.context, base, game_id), "ann", game_id)

    def on_the_websocket() -> bool | None:
        seat.page.wait_for_timeout(20)  # the sync API hands events over only while called
        return transport_shown(seat.page)[0] == "websocket" or None

    wait_for(
        on_the_websocket,
        timeout=30,
        what="the page back on the WebSocket",
        detail=lambda: f"{transport_shown(seat.page)}; upgrades: {len(dials)}",
    )
    assert len(dials) >= 3, dials  # refused; the probe; the WebSocket it resumed over
    BotsInThread(base, game_id, ["bot-1"], hands=1).start()  # seated and welcomed
    api.start(game_id, seat.session_token).ok(200)
    through = int(server_view(base, game_id, seat.session_token)["seq"])
    wait_connected(seat.page, 15, seq=through)
    assert transport_shown(seat.page)[0] == "websocket"
    assert_exactly_once(
        seat.page, server_seqs(base, game_id, seat.session_token), through=through, label="ann"
    )


@pytest.mark.timeout(240)
def test_behind_a_silent_websocket_the_page_is_back_over_sse_within_2_s_of_a_kill_9(
    server: ServerProcess,
    context_factory: ContextFactory,
    api: Api,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The silent proxy again, and the server killed -9 and restarted: while it is down the SSE
    attempts get no answer, which says nothing about the WebSocket; the page must not wait out
    the silent WebSocket again before it goes back to SSE. The page has played over SSE long
    enough for its probe of the WebSocket (as silent, so it takes the open timeout) to have found
    it blocked: that is what it remembers."""
    base = server.url
    game_id = create_game(api, seats=2, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS)
    tracked = context_factory("silent", only_origin=base)
    closed: list[int | None] = []  # the page closing a silent WebSocket it gave up on

    def silent(socket: WebSocketRoute) -> None:
        socket.on_close(lambda code, reason: closed.append(code))

    tracked.context.route_web_socket(GAME_WEBSOCKET, silent)
    seat = join(open_table(tracked.context, base, game_id), "ann", game_id)
    assert_over_sse(seat)
    # Given up twice: the connection's WebSocket for SSE, then the probe's, found blocked. (The
    # sync API hands Playwright's events over only while it is called: the wait calls it.)

    def probe_gave_up() -> bool | None:
        seat.page.wait_for_timeout(20)
        return len(closed) >= 2 or None

    wait_for(probe_gave_up, timeout=30, what="the probe giving up", detail=lambda: str(closed))
    before = server_view(base, game_id, seat.session_token)["seq"]
    restarted_at_ms, healthy_after = kill_and_restart(server, [seat.page])
    wait_resumed(seat.page, restarted_at_ms, seq=before)
    resumed = resumed_after(seat.page, restarted_at_ms)
    assert_over_sse(seat)
    with capsys.disabled():
        print(
            f"\n[silent WebSocket, SSE] server healthy {healthy_after * 1000:.0f} ms after the "
            f"restart; the page connected {resumed * 1000:.0f} ms after it"
        )
    assert resumed <= RESUME_LIMIT_S, f"resumed {resumed * 1000:.0f} ms after the restart"
    assert_exactly_once(
        seat.page, server_seqs(base, game_id, seat.session_token), through=before, label="ann"
    )


@pytest.mark.timeout(180)
def test_a_page_that_lets_go_of_its_stream_aborts_it(
    server: ServerProcess, context_factory: ContextFactory, api: Api
) -> None:
    """Offline, the SDK gives its connection up at once (Chromium would keep it open); over SSE
    that must abort the page's fetch of the stream, or the server would count the player
    connected until TCP gave up, minutes later. Back online, the page resumes over SSE."""
    base = server.url
    game_id = create_game(api, seats=2)
    tracked = context_factory("offline", only_origin=base)
    page = tracked.new_page()
    page.goto(f"{base}/play/{game_id}?transport=sse")
    seat = join(page, "ann", game_id)
    before = server_view(base, game_id, seat.session_token)

    def connected_says_the_server() -> bool:
        view = server_view(base, game_id, seat.session_token)
        return bool(next(s for s in view["seats"] if s["seat"] == view["you"]["seat"])["connected"])

    assert connected_says_the_server()
    tracked.context.set_offline(True)
    wait_for(
        lambda: not connected_says_the_server(),
        timeout=ABORT_SEEN_S,
        what="the server to see the page's stream end",
        interval=0.05,
    )
    tracked.context.set_offline(False)
    wait_connected(page, 30, seq=before["seq"])
    assert_over_sse(seat)
    wait_for(connected_says_the_server, timeout=10, what="the server to count the page back")


@pytest.mark.timeout(180)
def test_a_request_that_hangs_is_given_up_aborted_and_sent_again(
    server: ServerProcess, context_factory: ContextFactory, api: Api
) -> None:
    """The page's first `POST …/reconnect` over SSE is held by the route and never answered: the
    SDK gives it up after its request timeout (Python's, not `AbortSignal.any`, which older
    browsers lack), aborts it, and the session's next dial takes the seat."""
    base = server.url
    game_id = create_game(api, seats=2)
    tracked = context_factory("hung", only_origin=base)
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # never answered: the page must give up on it

    tracked.context.route(re.compile(r"/api/game/[^/]+/reconnect$"), hold_the_first)
    page = tracked.new_page()
    page.goto(f"{base}/play/{game_id}?transport=sse")
    began = time.monotonic()
    seat = join(page, "ann", game_id)
    took = time.monotonic() - began
    assert held, "the reconnect was never held"
    assert took >= REQUEST_TIMEOUT_S, f"connected after {took:.1f} s: the held request counted"
    assert_over_sse(seat)
    reconnects = [e for e in tracked.requests.entries if e.url.endswith("/reconnect")]
    assert reconnects[0].failure is not None, "the held reconnect was not aborted"
