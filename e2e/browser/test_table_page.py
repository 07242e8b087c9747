"""The demo table page (`/play/{gameId}`) as a person uses it, in real Chromium against a real
server process: a reload resumes the seat, a second tab of the same browser is told it cannot
play the seat, a tampered or unreadable saved seat gives a clear way out, a completed game, a
full table and an unknown table each say what happened, and a whole session from the lobby on
talks to the test server alone.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, WebSocket

from e2e.support.browser import ContextFactory, TrackedContext
from e2e.support.poker import own_cards
from e2e.support.spawn import Spawn
from e2e.support.table_page import (
    BOOT_TIMEOUT_S,
    SEAT_KEY,
    Seat,
    join,
    logged_events,
    open_table,
    passive_click,
    saved_seat,
    server_view,
    status,
    wait_connected,
)
from rejoin_testkit.api import Api, JsonObject, parse_utc
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table, play_to_completion

SLOW_CLOCK_MS = 600_000  # no action clock fires while a test looks at the table
BOOT_MS = BOOT_TIMEOUT_S * 1000
# What Chromium logs by itself (as a console error) for any fetch answered with an error status.
REFUSED = "Failed to load resource: the server responded with a status of {}"
STEP_MS = 15_000

# Run in every document of a context before the page's own scripts: remembers whether the join
# form was ever shown (`#join` losing its `hidden`), so "resumed without the join form" also
# covers a join form that flashed up and went away again.
WATCH_JOIN_FORM = """
window.__e2eJoinShown = false;
new MutationObserver((records) => {
    for (const record of records) {
        const node = record.target;
        if (node.id === 'join' && !node.hidden) window.__e2eJoinShown = true;
    }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
"""

# Words of the page's fatal messages (rejoin.browser.table.FATAL_MESSAGES), which cannot be
# imported here: that module imports Pyodide's `js`.
FATAL_WORDS = {
    "token_invalid": "invalid token",
    "another_tab": "already open in another tab",
    "game_completed": "This game is over",
    "game_not_found": "no such table",
    "token_expired": "has expired",
}


# Helpers.


def create_game(api: Api, **settings: Any) -> str:
    body = api.create_game(actionTimeoutMs=SLOW_CLOCK_MS, **settings).ok(201)
    game_id: str = body["gameId"]
    return game_id


def page_player(api: Api, seat: Seat) -> Player:
    """The page's seat as an HTTP player (its session token from localStorage)."""
    saved = seat.saved
    view = server_view(api.base_url, seat.game_id, saved["sessionToken"])
    return Player(
        api=api,
        game_id=seat.game_id,
        player_id=saved["playerId"],
        seat=int(view["you"]["seat"]),
        name=seat.name,
        session=saved["sessionToken"],
        token=saved["reconnectToken"],
    )


class AnnouncedExpiries:
    """When the reconnect tokens a page was given expire, as the server announced them in the
    `welcome` and `token` frames of the page's WebSockets (the join's token is spent by the
    first welcome, and a connected page is sent fresh ones before its token runs out)."""

    def __init__(self, page: Page) -> None:
        self.announced: list[datetime] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "welcome":
            self.announced.append(parse_utc(message["token"]["expiresAt"], "expiresAt"))
        elif message.get("type") == "token":
            self.announced.append(parse_utc(message["expiresAt"], "expiresAt"))

    def wait_all_expired(self) -> None:
        """Until the newest token is past its expiry. A token's expiry shows only by using it
        (which would spend a live one), so this polls the clock against the announced expiry,
        plus the second the server's whole-second stamps may add."""
        assert self.announced, "the page was sent no reconnect token over a WebSocket"
        refused_from = max(self.announced) + timedelta(seconds=1)
        wait_for(
            lambda: datetime.now(UTC) >= refused_from,
            timeout=(refused_from - datetime.now(UTC)).total_seconds() + 5,
            what=f"the page's newest reconnect token to expire ({refused_from.isoformat()})",
        )


def watched_context(factory: ContextFactory, label: str, server: ServerProcess) -> TrackedContext:
    tracked = factory(label, only_origin=server.url)
    tracked.context.add_init_script(WATCH_JOIN_FORM)
    return tracked


def my_seat_number(page: Page) -> int:
    found = page.evaluate(
        "() => [...document.querySelectorAll('.seat.me')]"
        ".map(s => [s.dataset.seat, s.dataset.playerId])"
    )
    assert len(found) == 1, f"the page marks {len(found)} seats as its own: {found}"
    return int(found[0][0])


def my_seat_player_id(page: Page) -> str:
    player: str = page.evaluate("() => document.querySelector('.seat.me').dataset.playerId")
    return player


def shown_hole_cards(page: Page) -> list[str]:
    cards: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('#hole-cards .card[data-card]')]"
        ".map(c => c.dataset.card)"
    )
    return cards


def wait_hole_cards(page: Page, cards: list[str]) -> None:
    page.wait_for_function(
        """(want) => {
            const got = [...document.querySelectorAll('#hole-cards .card[data-card]')]
                .map(c => c.dataset.card);
            return JSON.stringify(got) === JSON.stringify(want);
        }""",
        arg=cards,
        timeout=STEP_MS,
    )


def wait_stacks(page: Page, stacks: dict[str, int]) -> None:
    """Until each seat's drawn stack is the one in `stacks` (seat number as text -> chips)."""
    page.wait_for_function(
        """(want) => Object.entries(want).every(([seat, stack]) => {
            const node = document.querySelector(`.seat[data-seat="${seat}"] .stack`);
            return node !== null && Number(node.dataset.stack) === stack;
        })""",
        arg=stacks,
        timeout=STEP_MS,
    )


def wait_logged(page: Page, seq: int, kind: str | None = None) -> None:
    """Until the page's event log shows the event `seq` (of `kind`, if given)."""
    selector = f'#events li[data-seq="{seq}"]'
    if kind is not None:
        selector += f'[data-kind="{kind}"]'
    page.locator(selector).wait_for(state="attached", timeout=STEP_MS)


def wait_fatal(page: Page, code: str, timeout_ms: float = BOOT_MS) -> str:
    """Until `#fatal` shows `code`; asserts its message is visible, says what `FATAL_WORDS`
    expects, and holds no traceback; returns the message."""
    page.locator(f"#fatal[data-code={code}]").wait_for(state="visible", timeout=timeout_ms)
    message = page.locator("#fatal-message")
    assert message.is_visible(), f"{code}: the fatal message is not visible"
    text = message.inner_text().strip()
    assert FATAL_WORDS[code].lower() in text.lower(), f"{code}: unexpected message {text!r}"
    assert_no_traceback(page)
    return text


def assert_no_traceback(page: Page) -> None:
    body = page.locator("body").inner_text()
    for word in ("Traceback", 'File "', "Error:"):
        assert word not in body, f"the page shows {word!r}:\n{body}"


def assert_closed_without_join(page: Page) -> None:
    state, _ = status(page)
    assert state == "closed", f"#status is {state}, not closed"
    assert not page.locator("#join").is_visible(), "the join form is shown"
    assert not page.locator("#join-form").is_visible(), "the join form is shown"


def join_form_was_shown(page: Page) -> bool:
    return bool(page.evaluate("() => window.__e2eJoinShown === true"))


def assert_no_unexplained_errors(tracked: TrackedContext, **refused: int) -> None:
    """No uncaught page error, and no console error but Chromium's own line for each API call
    the test expects the server to refuse: `refused` maps the path's last part (`join`) to the
    HTTP status it answers with."""
    unexplained = [
        str(entry)
        for entry in tracked.errors.entries
        if not (
            entry.kind == "console.error"
            and any(
                f"/{last}:" in entry.where and entry.text.startswith(REFUSED.format(status))
                for last, status in refused.items()
            )
        )
    ]
    assert not unexplained, f"{tracked.label}: unexplained errors:\n" + "\n".join(unexplained)


def submit_join(page: Page, name: str) -> None:
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    page.fill("#join-form input[name=name]", name)
    page.click("#join-form button[type=submit]")


def tamper(token: str) -> str:
    """`token` with the first characters of its signature (after the last dot) changed."""
    head, dot, signature = token.rpartition(".")
    assert dot, f"not an itsdangerous token: {token!r}"
    assert len(signature) > 8, f"not an itsdangerous token: {token!r}"
    flipped = "".join("B" if c == "A" else "A" for c in signature[:6]) + signature[6:]
    return f"{head}.{flipped}"


# A reload resumes the seat.


def test_reload_resumes_the_same_seat_with_its_cards(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    game_id = create_game(api, autoNextHand=False)
    tracked = watched_context(context_factory, "reloader", server)
    page = open_table(tracked.context, server.url, game_id)
    seat = join(page, "Reloader", game_id)
    other = Player.joined(api, game_id, "Other")
    started = api.start(game_id, seat.session_token).ok(200)

    view = server_view(server.url, game_id, seat.session_token)
    cards = own_cards(view)
    wait_connected(page, STEP_MS / 1000, seq=int(started["seq"]))
    wait_hole_cards(page, cards)
    before = saved_seat(page, game_id)
    seat_before = my_seat_number(page)
    assert seat_before == view["you"]["seat"]
    assert not page.locator("#resume-note").is_visible(), "a resume note before any resume"

    page.reload()
    page.wait_for_function(
        "() => document.querySelector('#status')?.dataset.status === 'connected'",
        timeout=BOOT_MS,
    )

    after = saved_seat(page, game_id)
    assert after["playerId"] == before["playerId"], (before, after)
    assert my_seat_number(page) == seat_before
    assert my_seat_player_id(page) == before["playerId"]
    assert not join_form_was_shown(page), "the join form was shown on reload"
    assert not page.locator("#join").is_visible()
    view = server_view(server.url, game_id, after["sessionToken"])
    assert own_cards(view) == cards, "the hole cards changed on the server"
    wait_hole_cards(page, own_cards(view))
    note = page.locator("#resume-note")
    assert note.is_visible(), "no resume note after the reload"
    assert "resumed in" in note.inner_text(), note.inner_text()
    # Where WebSockets get through, the page (transport "auto") is on one, and says so.
    assert note.get_attribute("data-transport") == "websocket"
    assert "over WebSocket" in note.inner_text(), note.inner_text()
    assert "connected over WebSocket" in page.locator("#status").inner_text()
    # The server that welcomed is named (a single server is a cluster of one node); a reload
    # starts a new client, so nothing moved.
    node = api.healthz().ok(200)["node"]
    assert note.get_attribute("data-node") == node
    assert note.get_attribute("data-moved") == "false"
    assert f"on node {node}," in note.inner_text(), note.inner_text()
    # The other player still sees the page's player at its seat.
    seats = {s["seat"]: s["playerId"] for s in other.view()["seats"]}
    assert seats[seat_before] == before["playerId"], seats
    assert_no_unexplained_errors(tracked)


# A second tab of the same browser.


def test_second_tab_is_refused_and_takes_the_seat_once_the_first_is_gone(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    game_id = create_game(api, autoNextHand=False)
    tracked = watched_context(context_factory, "two-tabs", server)
    first = open_table(tracked.context, server.url, game_id)
    seat = join(first, "Tabby", game_id)
    player_id = seat.player_id
    seat_number = my_seat_number(first)
    other = Player.joined(api, game_id, "Other")

    second = tracked.context.new_page()
    sockets: list[str] = []

    def on_websocket(ws: WebSocket) -> None:
        sockets.append(ws.url)

    second.on("websocket", on_websocket)
    second.goto(f"{server.url}/play/{game_id}")
    wait_fatal(second, "another_tab")
    assert_closed_without_join(second)
    assert not join_form_was_shown(second), "the second tab showed the join form"
    assert not second.locator("#forget-seat").is_visible(), "another_tab offers to forget the seat"
    assert sockets == [], f"the second tab opened WebSockets: {sockets}"

    # The first tab still plays the seat: a hand and an action over HTTP reach its log.
    started = api.start(game_id, other.session).ok(200)
    wait_logged(first, int(started["seq"]))
    assert "hand_started" in [kind for _, kind in logged_events(first)]
    to_act = other.view()["toAct"]
    actor = other if to_act == other.seat else page_player(api, seat)
    ack = actor.act("call").ok(200)
    wait_logged(first, int(ack["seq"]), "action")
    wait_connected(first, STEP_MS / 1000, seq=int(ack["seq"]))
    assert status(first)[0] == "connected"
    assert saved_seat(first, game_id)["playerId"] == player_id
    assert status(second)[0] == "closed", "the second tab came alive"

    first.close()
    second.reload()
    wait_connected(second, BOOT_TIMEOUT_S, seq=int(ack["seq"]))
    assert saved_seat(second, game_id)["playerId"] == player_id
    assert my_seat_number(second) == seat_number
    assert my_seat_player_id(second) == player_id
    assert not second.locator("#fatal").is_visible()
    assert not join_form_was_shown(second), "the join form was shown on taking the seat"
    assert sockets, "the second tab never opened a WebSocket"
    assert_no_unexplained_errors(tracked)


# A tampered or unreadable saved seat.


def test_tampered_or_unreadable_saved_seat_offers_to_forget_it(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    game_id = create_game(api)
    tracked = watched_context(context_factory, "tamperer", server)
    page = open_table(tracked.context, server.url, game_id)
    seat = join(page, "Mallory", game_id)
    key = SEAT_KEY.format(game_id)

    saved = seat.saved
    bad = dict(saved, reconnectToken=tamper(saved["reconnectToken"]))
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, json.dumps(bad)])
    page.reload()
    message = wait_fatal(page, "token_invalid")
    assert_closed_without_join(page)
    forget = page.locator("#forget-seat")
    assert forget.is_visible(), "no way to forget the seat"
    assert forget.is_enabled(), "the forget button is disabled"

    forget.click()
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    assert page.evaluate("(key) => localStorage.getItem(key)", key) is None
    assert not page.locator("#fatal").is_visible()
    assert status(page)[0] == "unseated"

    # Not JSON at all: the same way out, no traceback, no uncaught error.
    page.evaluate("(key) => localStorage.setItem(key, '{not json')", key)
    page.reload()
    assert wait_fatal(page, "token_invalid") == message
    assert_closed_without_join(page)
    assert page.locator("#forget-seat").is_visible()
    # JSON, but not a seat.
    page.evaluate("(key) => localStorage.setItem(key, '[1, 2]')", key)
    page.reload()
    assert wait_fatal(page, "token_invalid") == message
    assert_no_unexplained_errors(tracked)
    # The tampered token took nothing from the real seat: the server still has it.
    assert (
        server_view(server.url, game_id, saved["sessionToken"])["you"]["playerId"]
        == (saved["playerId"])
    )


# A completed game.


def test_completed_game_says_so_on_reload_and_to_a_new_player(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    game_id = create_game(api, startingStack=4, smallBlind=1, bigBlind=2, autoNextHand=False)
    tracked = watched_context(context_factory, "finisher", server)
    page = open_table(tracked.context, server.url, game_id)
    seat = join(page, "Finisher", game_id)
    other = Player.joined(api, game_id, "Other")
    table = Table(api, game_id, {}, [page_player(api, seat), other])

    final = play_to_completion(table)
    assert final["status"] == "completed", final
    last_seq = int(final["seq"])
    wait_logged(page, last_seq, "game_completed")
    final_stacks = {str(s["seat"]): s["stack"] for s in final["seats"]}
    # Live, the page draws the end of the game and offers no next hand.
    wait_stacks(page, final_stacks)
    assert "game over" in page.locator("#phase").inner_text().lower()
    assert not page.locator("#start").is_visible(), "a completed game offers a next hand"

    page.reload()
    wait_fatal(page, "game_completed")
    assert_closed_without_join(page)
    # The refusal carries the final result, which the page draws under the message.
    assert page.locator("#table").is_visible(), "the final table is not drawn"
    wait_stacks(page, final_stacks)
    assert "game over" in page.locator("#phase").inner_text().lower()
    assert not join_form_was_shown(page)
    assert not page.locator("#actions button").count(), "actions offered in a completed game"
    assert not page.locator("#start").is_visible(), "a completed game offers a next hand"

    # A newcomer is told at once, before any name is asked (test_join_flow has the result).
    stranger = watched_context(context_factory, "stranger", server)
    late = open_table(stranger.context, server.url, game_id)
    wait_fatal(late, "game_completed")
    assert status(late)[0] == "closed"
    assert not join_form_was_shown(late)
    assert_no_unexplained_errors(tracked)
    assert_no_unexplained_errors(stranger, **{game_id: 410})


# A seat left longer than the token's lifetime.


def test_expired_token_says_so_and_offers_to_forget_the_seat(
    context_factory: ContextFactory, spawn: Spawn, sqlite_url: str
) -> None:
    server = spawn(sqlite_url, "--token-ttl", "2s")
    game_id = Api(server.url, server.admin_token).create_game().ok(201)["gameId"]
    tracked = watched_context(context_factory, "sleeper", server)
    page = open_table(tracked.context, server.url, game_id)
    tokens = AnnouncedExpiries(page)
    join(page, "Sleeper", game_id)
    page.close()  # the seat stays in localStorage; its token runs out meanwhile
    tokens.wait_all_expired()
    again = open_table(tracked.context, server.url, game_id)
    message = wait_fatal(again, "token_expired")
    assert "expired" in message
    assert_closed_without_join(again)
    assert again.locator("#forget-seat").is_visible()
    assert_no_unexplained_errors(tracked)


# A whole session from the lobby talks to the test server alone.


def test_lobby_to_action_requests_only_the_test_server(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    tracked = context_factory("lobby", only_origin=server.url)
    page = tracked.new_page()
    page.goto(f"{server.url}/")
    page.fill("#create-form input[name=seats]", "2")
    page.fill("#create-form input[name=actionTimeoutSeconds]", "600")
    page.click("#create-form button[type=submit]")
    link = page.locator("a#table-link")
    link.wait_for(state="visible", timeout=STEP_MS)
    href = link.get_attribute("href") or ""
    assert href.startswith("/play/"), href
    game_id = href.removeprefix("/play/")
    seat_links = page.locator("#seat-links a.seat-link")
    assert seat_links.count() == 2
    assert seat_links.nth(1).get_attribute("href") == f"/play/{game_id}?seat=1"
    # The link of the second seat takes this browser to that seat.
    seat_links.nth(1).click()
    page.wait_for_url(f"{server.url}/play/{game_id}?seat=1")

    seat = join(page, "Lobbyist", game_id)
    assert page.locator(".seat.me").get_attribute("data-seat") == "1"
    other = Player.joined(api, game_id, "Other")
    page.locator("#start").wait_for(state="visible", timeout=STEP_MS)
    page.click("#start")
    wait_connected(page, STEP_MS / 1000)
    page.locator("#hole-cards .card[data-card]").first.wait_for(timeout=STEP_MS)

    me = page_player(api, seat)
    if other.view()["toAct"] == other.seat:
        other.act("call").ok(200)
    page.locator("#actions button[data-action]").first.wait_for(timeout=STEP_MS)
    clicked = passive_click(page)
    assert clicked in ("check", "call"), f"nothing passive to click: {clicked}"
    mine = wait_own_action(me)
    wait_logged(page, int(mine["seq"]), "action")

    tracked.requests.assert_only(server.url)
    assert any(e.kind == "websocket" for e in tracked.requests.entries), "no WebSocket seen"
    assert tracked.errors.entries == [], tracked.errors.report()


def wait_own_action(player: Player) -> JsonObject:
    """The server's `action` event of `player`'s seat, waiting for it a little."""

    def own_action() -> JsonObject | None:
        mine = (e for e in player.events() if e["kind"] == "action")
        return next((e for e in mine if e["data"].get("seat") == player.seat), None)

    return wait_for(
        own_action,
        timeout=STEP_MS / 1000,
        what="the page's click to make an action on the server",
        interval=0.05,
    )


# Join form errors.


def test_full_table_says_so_and_offers_no_join(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    """A full table is said to be full before a name is asked, with no button: a join there
    could only be refused (`table_full`). The name box stays, nothing else is offered."""
    game_id = create_game(api, seats=2)
    Player.joined(api, game_id, "One")
    Player.joined(api, game_id, "Two")
    api.join(game_id, "Three").error("table_full")

    tracked = watched_context(context_factory, "third", server)
    page = open_table(tracked.context, server.url, game_id)
    page.locator("#seat-choice").wait_for(state="visible", timeout=BOOT_MS)
    assert page.locator("#seat-choice-note").inner_text() == "This table is full."
    assert not page.locator("#join-form button[type=submit]").first.is_visible()
    assert page.locator("#free-seats button").count() == 0
    assert page.locator("#join-error").inner_text().strip() == ""
    assert not page.locator("#fatal").is_visible()
    assert status(page)[0] == "unseated"
    assert page.evaluate("(key) => localStorage.getItem(key)", SEAT_KEY.format(game_id)) is None
    assert not [url for url in tracked.requests.urls if url.endswith("/join")]
    assert_no_traceback(page)
    assert_no_unexplained_errors(tracked)


# An unknown table.


def test_unknown_table_says_there_is_no_such_table(
    context_factory: ContextFactory, server: ServerProcess, api: Api
) -> None:
    game_id = uuid.uuid4().hex
    assert api.state(game_id, None).status in (401, 404)
    tracked = watched_context(context_factory, "lost", server)
    page = open_table(tracked.context, server.url, game_id)
    wait_fatal(page, "game_not_found")  # at once: no name is asked for a table that is not there
    assert not join_form_was_shown(page)
    assert status(page)[0] == "closed"
    assert page.evaluate("(key) => localStorage.getItem(key)", SEAT_KEY.format(game_id)) is None
    # No seat was saved, so none is offered to forget.
    assert not page.locator("#forget-seat").is_visible()
    assert_no_unexplained_errors(tracked, **{game_id: 404})
