"""Finding a table and sitting down, in real Chromium against a real server process: a wrong link
and a finished game say so before any name is asked (the finished one with its result), a seat
the link asks for that is taken offers the free seats as buttons (counted from 1) and a click
seats you there (on poker's page and on the generic page of any other kind), a table that takes
nobody (full, or a started Liar's Dice game) says so and offers no button, and the lobby lists the
open tables with links that open them.

Each test keeps screenshots of what a person sees in `.reports/e2e-artifacts/<test>/`.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.support.browser import ContextFactory, TrackedContext, screenshot
from e2e.support.spawn import Spawn
from e2e.support.table_page import (
    BOOT_TIMEOUT_S,
    SEAT_KEY,
    open_table,
    saved_seat,
    status,
    wait_connected,
)
from rejoin_testkit.api import Api
from rejoin_testkit.example_game import LIARS_DICE, LIARS_DICE_ARGS, liars_dice_env
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table, play_to_completion

BOOT_MS = BOOT_TIMEOUT_S * 1000
STEP_MS = 15_000
SLOW_CLOCK_MS = 600_000  # no action clock fires while a test looks at the table
# What Chromium logs by itself (as a console error) for a fetch answered with an error status.
REFUSED = "Failed to load resource: the server responded with a status of {}"

# Remembers whether the join form was ever shown (`#join` losing `hidden`), even for a moment.
WATCH_JOIN_FORM = """
window.__e2eJoinShown = false;
new MutationObserver((records) => {
    for (const record of records) {
        if (record.target.id === 'join' && !record.target.hidden) window.__e2eJoinShown = true;
    }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
"""


def watched(factory: ContextFactory, label: str, server: ServerProcess) -> TrackedContext:
    tracked = factory(label, only_origin=server.url)
    tracked.context.add_init_script(WATCH_JOIN_FORM)
    return tracked


def create_game(api: Api, **settings: Any) -> str:
    game_id: str = api.create_game(actionTimeoutMs=SLOW_CLOCK_MS, **settings).ok(201)["gameId"]
    return game_id


def join_form_was_shown(page: Page) -> bool:
    return bool(page.evaluate("() => window.__e2eJoinShown === true"))


def wait_fatal(page: Page, code: str) -> str:
    page.locator(f"#fatal[data-code={code}]").wait_for(state="visible", timeout=BOOT_MS)
    text: str = page.locator("#fatal-message").inner_text().strip()
    return text


def refused_only(tracked: TrackedContext, last: str, status_code: int) -> None:
    """No page error, and no console error but Chromium's own line for the one refusal the test
    expects: a request whose path ends in `last`, answered `status_code`."""
    unexplained = [
        str(entry)
        for entry in tracked.errors.entries
        if not (
            entry.kind == "console.error"
            and f"/{last}:" in entry.where
            and entry.text.startswith(REFUSED.format(status_code))
        )
    ]
    assert not unexplained, "\n".join(unexplained)


def test_a_wrong_link_says_so_before_asking_a_name(
    context_factory: ContextFactory, server: ServerProcess, request: pytest.FixtureRequest
) -> None:
    game_id = uuid.uuid4().hex
    tracked = watched(context_factory, "lost", server)
    page = open_table(tracked.context, server.url, game_id)
    text = wait_fatal(page, "game_not_found")
    assert "no such table" in text.lower()
    screenshot(page, request, "wrong link")
    assert not join_form_was_shown(page), "a name was asked for a table that does not exist"
    assert status(page)[0] == "closed"
    assert not page.locator("#forget-seat").is_visible()  # no seat was saved: none to forget
    # Nobody tried to join: the page asked the table's public description only.
    assert not any(url.endswith("/join") for url in tracked.requests.urls), tracked.requests.urls
    refused_only(tracked, game_id, 404)


def test_a_finished_table_shows_its_result_before_asking_a_name(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    game_id = create_game(api, seats=3, startingStack=4, smallBlind=1, bigBlind=2)
    players = [Player.joined(api, game_id, "Ann"), Player.joined(api, game_id, "Bo")]
    final = play_to_completion(Table(api, game_id, {}, players))
    winner = next(s for s in final["seats"] if s["stack"] > 0)

    tracked = watched(context_factory, "late", server)
    page = open_table(tracked.context, server.url, game_id)
    text = wait_fatal(page, "game_completed")
    screenshot(page, request, "finished table")
    assert "this game is over" in text.lower()
    chips = ", ".join(f"{s['name']} {s['stack']}" for s in final["seats"])
    assert f"Final chips: {chips}." in text, text
    assert f"{winner['name']} won." in text, text
    assert not join_form_was_shown(page), "a name was asked for a game that is over"
    # The final table is drawn, each seat with its chips.
    assert page.locator("#table").is_visible()
    for seat in final["seats"]:
        stack = page.locator(f'.seat[data-seat="{seat["seat"]}"] .stack')
        assert stack.get_attribute("data-stack") == str(seat["stack"])
    assert page.evaluate("(key) => localStorage.getItem(key)", SEAT_KEY.format(game_id)) is None
    refused_only(tracked, game_id, 410)


def test_a_taken_seat_offers_the_free_seats_and_a_click_seats_you_there(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    game_id = create_game(api, seats=4)
    Player.joined(api, game_id, "Ann", seat=1)
    Player.joined(api, game_id, "Bo", seat=2)
    tracked = watched(context_factory, "newcomer", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/play/{game_id}?seat=1")  # a seat link sent before Ann sat there
    page.locator("#seat-choice").wait_for(state="visible", timeout=BOOT_MS)
    screenshot(page, request, "taken seat")
    assert page.locator("#seat-choice-note").inner_text() == "Seat 2 is taken; choose a free seat:"
    assert page.locator("#join-table").inner_text() == "poker · 2 of 4 seats taken · blinds 1/2"
    buttons = page.locator("#free-seats button.free-seat")
    assert buttons.all_inner_texts() == ["Seat 1", "Seat 4"]
    assert [buttons.nth(i).get_attribute("data-seat") for i in range(2)] == ["0", "3"]
    assert not page.locator("#join-any").is_visible(), "the any-seat button is still offered"
    page.fill("#join-form input[name=name]", "Cy")
    buttons.nth(1).click()
    wait_connected(page, BOOT_TIMEOUT_S)
    page.locator(".seat.me").wait_for(timeout=STEP_MS)
    assert page.locator(".seat.me").get_attribute("data-seat") == "3"
    view = api.state(game_id, saved_seat(page, game_id)["sessionToken"]).ok(200)["gameState"]
    assert {s["seat"]: s["name"] for s in view["seats"]} == {1: "Ann", 2: "Bo", 3: "Cy"}
    screenshot(page, request, "seated at seat 4")
    assert tracked.errors.entries == [], tracked.errors.report()


def assert_nothing_offered(page: Page, note: str) -> None:
    """The join form says `note` and offers no way to send a join the server would refuse."""
    page.locator("#seat-choice").wait_for(state="visible", timeout=BOOT_MS)
    assert page.locator("#seat-choice-note").inner_text() == note
    assert page.locator("#free-seats button").count() == 0
    assert not page.locator("#join-any").is_visible(), "the any-seat button is still offered"
    seat_box = page.locator("#join-form input[name=seat]")
    assert seat_box.count() == 0 or not seat_box.is_visible()


def test_a_full_table_says_so_and_offers_no_seat(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    game_id = create_game(api, seats=2)
    Player.joined(api, game_id, "Ann")
    Player.joined(api, game_id, "Bo")
    tracked = watched(context_factory, "latecomer", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/play/{game_id}?seat=0")  # a seat link sent before the table filled
    assert_nothing_offered(page, "This table is full.")
    screenshot(page, request, "full table")
    assert tracked.errors.entries == [], tracked.errors.report()


def test_a_seat_taken_while_the_form_is_open_offers_the_free_ones_then(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    game_id = create_game(api, seats=3)
    tracked = watched(context_factory, "slow", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/play/{game_id}?seat=0")
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    assert not page.locator("#seat-choice").is_visible()  # seat 1 was free when it was drawn
    Player.joined(api, game_id, "Quick", seat=0)
    page.fill("#join-form input[name=name]", "Slow")
    page.click("#join-any")
    page.locator("#seat-choice").wait_for(state="visible", timeout=STEP_MS)
    screenshot(page, request, "taken meanwhile")
    assert page.locator("#seat-choice-note").inner_text() == "Seat 1 is taken; choose a free seat:"
    assert page.locator("#free-seats button").all_inner_texts() == ["Seat 2", "Seat 3"]
    assert page.locator("#join-error").inner_text() == ""  # not the API's 0-based message
    page.locator('#free-seats button[data-seat="2"]').click()
    wait_connected(page, BOOT_TIMEOUT_S)
    assert page.locator(".seat.me").get_attribute("data-seat") == "2"
    refused_only(tracked, "join", 409)


def test_a_table_filled_while_the_form_is_open_says_so_then(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    game_id = create_game(api, seats=2)
    tracked = watched(context_factory, "too-slow", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/play/{game_id}")
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    Player.joined(api, game_id, "Ann")
    Player.joined(api, game_id, "Bo")
    page.fill("#join-form input[name=name]", "Cy")
    page.click("#join-any")  # refused, table_full: the form then says so, with no button left
    assert_nothing_offered(page, "This table is full.")
    screenshot(page, request, "filled meanwhile")
    refused_only(tracked, "join", 409)


def test_the_lobby_lists_an_open_table_and_its_link_opens_it(
    context_factory: ContextFactory, server: ServerProcess, api: Api, request: pytest.FixtureRequest
) -> None:
    open_id = create_game(api, seats=3, smallBlind=5, bigBlind=10, startingStack=500)
    Player.joined(api, open_id, "Ann")
    full_id = create_game(api, seats=2)
    Player.joined(api, full_id, "Bo")
    Player.joined(api, full_id, "Cy")
    tracked = watched(context_factory, "lobby", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/")
    listed = page.locator(f'#open-tables li[data-game-id="{open_id}"]')
    listed.wait_for(timeout=STEP_MS)
    assert listed.locator(".kind").inner_text() == "poker"
    assert listed.locator(".facts").inner_text() == "1/3 players · blinds 5/10 · free seats 2, 3"
    assert page.locator(f'#open-tables li[data-game-id="{full_id}"]').count() == 0
    # Another table opens while the lobby is shown: listed when the page is looked at again.
    later_id = create_game(api, seats=2)
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    page.locator(f'#open-tables li[data-game-id="{later_id}"]').wait_for(timeout=STEP_MS)
    ids = page.eval_on_selector_all("#open-tables li", "items => items.map(i => i.dataset.gameId)")
    assert ids == [later_id, open_id], ids  # newest first
    screenshot(page, request, "lobby")

    listed.locator("a.open-table").click()
    page.wait_for_url(f"{server.url}/play/{open_id}")
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    assert page.locator("#join-table").inner_text() == "poker · 1 of 3 seats taken · blinds 5/10"
    page.fill("#join-form input[name=name]", "Dee")
    page.click("#join-any")
    wait_connected(page, BOOT_TIMEOUT_S)
    assert page.locator(".seat.me").get_attribute("data-seat") == "1"
    screenshot(page, request, "joined from the lobby")
    tracked.requests.assert_only(server.url)
    assert tracked.errors.entries == [], tracked.errors.report()


def test_the_generic_page_counts_seats_from_one_too(
    context_factory: ContextFactory, spawn: Spawn, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    server = spawn(sqlite_url, *LIARS_DICE_ARGS, env=liars_dice_env())
    api = Api(server.url, server.admin_token)
    game_id = api.create_game(kind=LIARS_DICE, seats=3).ok(201)["gameId"]
    ann = Player.joined(api, game_id, "Ann", seat=0)
    tracked = watched(context_factory, "dice", server)
    page = tracked.new_page()
    page.goto(f"{server.url}/play/{game_id}?seat=2")  # the API's seat 2: "3" in the seat box
    page.locator("#join-form input[name=name]").wait_for(state="visible", timeout=BOOT_MS)
    assert page.locator("#join-form input[name=seat]").input_value() == "3"
    assert page.locator("#join-table").inner_text() == "liars-dice · 1 of 3 seats taken"
    page.fill("#join-form input[name=seat]", "1")  # taken: seat 1 is Ann's
    page.fill("#join-form input[name=name]", "Bo")
    page.click("#join-any")
    page.locator("#seat-choice").wait_for(state="visible", timeout=STEP_MS)
    assert page.locator("#seat-choice-note").inner_text() == "Seat 1 is taken; choose a free seat:"
    assert page.locator("#free-seats button").all_inner_texts() == ["Seat 2", "Seat 3"]
    assert not page.locator("#join-form input[name=seat]").is_visible()
    screenshot(page, request, "generic taken seat")
    page.locator('#free-seats button[data-seat="1"]').click()
    wait_connected(page, BOOT_TIMEOUT_S)
    view = api.state(game_id, saved_seat(page, game_id)["sessionToken"]).ok(200)["gameState"]
    assert view["you"]["seat"] == 1
    refused_only(tracked, "join", 409)

    # Started: Liar's Dice seats nobody now (`game_active`), so its free seat is not offered.
    api.start(game_id, ann.session).ok(200)
    late = watched(context_factory, "dice-late", server)
    page = late.new_page()
    page.goto(f"{server.url}/play/{game_id}?seat=2")
    assert_nothing_offered(page, "This game has started and takes no more players.")
    screenshot(page, request, "generic started game")
    assert late.errors.entries == [], late.errors.report()
