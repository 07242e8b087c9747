"""The operator console (`/admin`) in real Chromium against a real server process (SQLite): the
admin token typed in once and kept in the tab only; a live game listed with its players (the one
connected over a WebSocket shown so); the figures and charts drawn; a snapshot taken; the game
inspected with every player's cards, as the server holds them, and its snapshot opened as it was
once the game has moved on; a completed game deleted; a wrong token refused and forgotten."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.support.browser import ContextFactory, TrackedContext, screenshot
from e2e.support.ws import Resume, WsClient
from rejoin_testkit.api import Api, JsonObject
from rejoin_testkit.processes import ServerProcess
from rejoin_testkit.tables import Player, Table, play_to_completion

SLOW_CLOCK_MS = 600_000  # no action clock fires while the test looks at the page
WAIT_MS = 15_000


def row(page: Page, game_id: str) -> Locator:
    return page.locator(f'#games tbody tr[data-game-id="{game_id}"]')


def admin_get(server: ServerProcess, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})


def log_in(page: Page, token: str) -> None:
    page.fill("#login-form input[name=token]", token)
    page.click("#login-form button[type=submit]")


def card_titles(cards: Locator) -> list[str | None]:
    expect(cards).to_have_count(2)
    return [cards.nth(i).get_attribute("title") for i in range(2)]


def assert_listed(
    page: Page, tracked: TrackedContext, live: Table, done: Table, token: str
) -> None:
    """Both games listed, the live one with its players and who is connected; the figures and
    the charts drawn; the token in this tab's sessionStorage only."""
    listed = row(page, live.game_id)
    expect(listed).to_be_visible(timeout=WAIT_MS)
    expect(listed.locator(".player.on")).to_contain_text("Ann", timeout=WAIT_MS)
    expect(listed.locator(".player.off")).to_contain_text("Bob")
    expect(listed).to_contain_text("preflop")
    expect(row(page, done.game_id)).to_contain_text("completed")
    expect(page.locator('[data-figure="hosted"]')).to_have_text("2")
    expect(page.locator('[data-figure="issued"]')).not_to_have_text("0 issued")
    expect(page.locator("#health")).to_have_attribute("data-health", "ok")
    assert page.locator("#chart-actions svg rect.bar").count() >= 1  # the all-in hands
    assert page.evaluate("sessionStorage.getItem('rejoin-admin-token')") == token
    assert page.evaluate("localStorage.length") == 0
    assert tracked.context.cookies() == []


def snapshot_it(page: Page, server: ServerProcess, token: str, live: Table, ann: Player) -> int:
    """The snapshot's version is the game's seq, and the list shows it; returns the version."""
    listed = row(page, live.game_id)
    seq = int(ann.view()["seq"])
    listed.locator("button.snapshot").click()
    expect(page.locator("#action-note")).to_have_text(
        f"Snapshot of {live.game_id} stored at version {seq}.", timeout=WAIT_MS
    )
    expect(listed.locator("td").nth(6)).to_have_text(str(seq), timeout=WAIT_MS)
    assert admin_get(server, token, f"/api/game/{live.game_id}/restore").json()["version"] == seq
    return seq


def inspect_it(page: Page, server: ServerProcess, token: str, live: Table, ann: Player) -> None:
    """Every seat's cards, the very ones the server dealt; Ann's the ones she sees as hers."""
    row(page, live.game_id).locator("button.inspect").click()
    panel = page.locator("#inspect")
    expect(panel).to_be_visible(timeout=WAIT_MS)
    expect(panel.locator("h2")).to_have_text(f"Game {live.game_id}")
    full: JsonObject = admin_get(server, token, f"/api/admin/games/{live.game_id}").json()
    for seat in full["table"]["seats"]:
        cards = panel.locator(f'table.seats tr[data-player-id="{seat["playerId"]}"] .card')
        assert card_titles(cards) == seat["holeCards"]
    mine = next(s for s in ann.view()["seats"] if s["playerId"] == ann.player_id)["holeCards"]
    shown = panel.locator(f'table.seats tr[data-player-id="{ann.player_id}"] .card')
    assert card_titles(shown) == mine
    expect(panel).to_contain_text("hole_cards")  # the newest events, in full


def inspect_snapshot(page: Page, live: Table, version: int, request: pytest.FixtureRequest) -> None:
    """Once the game has moved on, its snapshot opens as it was; the game is left as it is."""
    panel = page.locator("#inspect")
    cards = {
        player_id: card_titles(panel.locator(f'table.seats tr[data-player-id="{player_id}"] .card'))
        for player_id in panel.locator("table.seats tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.playerId)"
        )
    }
    live.act_passively()
    moved_to = live.view()["seq"]
    assert moved_to > version
    panel.locator(f'.snapshots li[data-version="{version}"] button.open-snapshot').click()
    expect(panel.locator("h2")).to_have_text(f"Game {live.game_id}: snapshot {version}")
    for player_id, shown in cards.items():
        seat = panel.locator(f'table.seats tr[data-player-id="{player_id}"] .card')
        assert card_titles(seat) == shown
    assert live.view()["seq"] == moved_to
    screenshot(page, request, "3-snapshot")
    panel.locator("button.back").click()
    expect(panel.locator("h2")).to_have_text(f"Game {live.game_id}", timeout=WAIT_MS)


def delete_it(page: Page, server: ServerProcess, token: str, done: Table) -> None:
    """A second click confirms; the game is gone from the list and from the store."""
    gone = row(page, done.game_id)
    gone.locator("button.delete").click()
    gone.locator("button.armed").click()
    expect(page.locator("#action-note")).to_contain_text(f"Deleted {done.game_id}:")
    expect(gone).to_have_count(0, timeout=WAIT_MS)
    missing = admin_get(server, token, f"/api/game/{done.game_id}/restore")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "game_not_found"


@pytest.mark.timeout(180)
def test_the_console_lists_snapshots_inspects_and_deletes_games(
    server: ServerProcess,
    api: Api,
    admin_token: str,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
) -> None:
    # A live game: Ann at the table over a WebSocket, Bob over plain HTTP; a hand running.
    live = Table.create(api, seats=4, actionTimeoutMs=SLOW_CLOCK_MS)
    ann = live.join("Ann")
    live.join("Bob")
    live.start(ann)
    socket = WsClient(server.url, live.game_id, Resume.of(ann))
    socket.hello()
    socket.welcome()
    # A game played to its end (heads-up all-in): the one to delete.
    done = Table.create(api, seats=2, autoNextHand=False, actionTimeoutMs=SLOW_CLOCK_MS)
    done.join_many(2)
    done.start()
    assert play_to_completion(done)["status"] == "completed"

    tracked = context_factory("admin", only_origin=server.url)
    page = tracked.new_page()
    page.goto(f"{server.url}/admin")
    log_in(page, admin_token)
    assert_listed(page, tracked, live, done, admin_token)
    screenshot(page, request, "1-listed")
    version = snapshot_it(page, server, admin_token, live, ann)
    inspect_it(page, server, admin_token, live, ann)
    screenshot(page, request, "2-inspected")
    inspect_snapshot(page, live, version, request)
    delete_it(page, server, admin_token, done)
    expect(row(page, live.game_id)).to_be_visible()
    screenshot(page, request, "4-deleted")

    # A wrong token is refused and forgotten.
    page.click("#logout")
    log_in(page, "not-the-token")
    expect(page.locator("#login-error")).to_contain_text("operator", timeout=WAIT_MS)
    assert page.evaluate("sessionStorage.getItem('rejoin-admin-token')") is None
    socket.close()
