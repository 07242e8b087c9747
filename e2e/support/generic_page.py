"""The generic table page (`/play/{gameId}` of a game that is not poker) as the browser tests drive
it.

The page's contract (client_sdk/web/static/game.html, generic-ui.js, rejoin.browser.generic):
what `table_page` reads on every table page (`#status`, `#join-form`, `ol#events li[data-seq]
[data-kind]`, `#resume-note`, `#outage`, `#fatal[data-code]`, `#table[data-view-seq]`,
`#table[data-paused]`), and its own:
`form.action-form[data-action][data-index]` per legal action, with an input per field
(`[name=<field>]`: a number box, a `select` whose options are the enum's values, a checkbox) and
a submit button labelled with the action's `label` or type; `.field-error[data-field]` in the form
when what was typed does not fit; `#message[data-code]` for a refusal; `#you tr[data-key] td`,
`#seats tr[data-seat]`, `#view-fields`, `#view-json`; `#table[data-game-status]`; `#start`.
And the lobby's choice of kind: `#kind-box select[name=kind]`, `textarea[name=settings]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page

from e2e.support.table_page import Seat, server_view
from rejoin_testkit.polling import wait_for

Move = tuple[str, dict[str, Any]]  # (action type, {field: value}) as a player would fill it in
Chooser = Callable[[dict[str, Any]], Move]  # the mover's view -> the move to make


def create_from_lobby(context: BrowserContext, base_url: str, kind: str, **settings: Any) -> str:
    """Create a game of `kind` in the lobby (`/`): pick the kind, check that its settings box
    starts with the defaults of its schema, write `settings` as JSON; returns the game's id."""
    page = context.new_page()
    page.goto(f"{base_url}/")
    page.locator("#kind-box").wait_for(state="visible")
    page.select_option("#create-form select[name=kind]", kind)
    listed = httpx.get(f"{base_url}/api/games/kinds", timeout=10).json()["kinds"]
    schema = next(k["settings"] for k in listed if k["kind"] == kind)
    defaults = {name: p["default"] for name, p in schema["properties"].items() if "default" in p}
    assert json.loads(page.input_value("#create-form textarea[name=settings]")) == defaults
    page.fill("#create-form textarea[name=settings]", json.dumps(settings))
    page.click("#create-form button[type=submit]")
    page.locator("#created").wait_for(state="visible")
    href = page.get_attribute("#table-link", "href") or ""
    assert href.startswith("/play/"), href
    page.close()
    return href.removeprefix("/play/")


def shown_forms(page: Page) -> list[str]:
    """The action types the page offers a form for, in order."""
    types: list[str] = page.eval_on_selector_all(
        "#actions form.action-form", "forms => forms.map(f => f.dataset.action)"
    )
    return types


def you_row(page: Page, key: str) -> str:
    """What the page shows for `you.<key>`."""
    return page.inner_text(f"#you tr[data-key={json.dumps(key)}] td")


def shown_view(page: Page) -> dict[str, Any]:
    """The view the page drew, from its JSON box."""
    text = page.text_content("#view-json") or "{}"
    view: dict[str, Any] = json.loads(text)
    return view


def fill_and_submit(page: Page, move: Move) -> None:
    """Fill the form of `move`'s type as a player would (check a box, pick an option by its
    text, type a number) and submit it."""
    kind, values = move
    form = page.locator(f"#actions form.action-form[data-action={json.dumps(kind)}]").first
    for name, value in values.items():
        field = form.locator(f"[name={json.dumps(name)}]")
        tag = field.evaluate("node => node.tagName.toLowerCase() + ':' + (node.type || '')")
        if tag == "input:checkbox":
            field.set_checked(bool(value))
        elif tag.startswith("select"):
            field.select_option(label=value if isinstance(value, str) else json.dumps(value))
        else:
            field.fill(str(value))
    form.locator("button[type=submit]").click()


def seat_of(base_url: str, seat: Seat) -> int:
    return int(server_view(base_url, seat.game_id, seat.session_token)["you"]["seat"])


def mover(base_url: str, seats: list[Seat]) -> tuple[Seat, dict[str, Any]] | None:
    """The seat whose turn it is (with its view), None when nobody has a move."""
    for seat in seats:
        view = server_view(base_url, seat.game_id, seat.session_token)
        if view["you"]["legalActions"]:
            return seat, view
    return None


def play_move(base_url: str, seats: list[Seat], choose: Chooser, timeout_s: float = 30) -> Move:
    """The player to move makes `choose(view)` through the page's form; returns the move once
    the server has its events and the mover's page drew the view after them."""
    # Between rounds nobody may have a move for a moment.
    seat, view = wait_for(lambda: mover(base_url, seats), timeout=timeout_s, what="a move to make")
    move = choose(view)
    wait_forms(seat.page, [a["type"] for a in view["you"]["legalActions"]], view["seq"])
    fill_and_submit(seat.page, move)

    def moved() -> bool:
        seq = int(server_view(base_url, seat.game_id, seat.session_token)["seq"])
        return seq > int(view["seq"])

    wait_for(moved, timeout=timeout_s, what=f"{seat.name}'s {move} to reach the server")
    return move


def wait_forms(page: Page, types: list[str], seq: int, timeout_s: float = 10) -> None:
    """Until the page shows the forms of `types` for the view at `seq` (or later)."""
    page.wait_for_function(
        """([types, seq]) => {
            const table = document.querySelector('#table');
            const shown = [...document.querySelectorAll('#actions form.action-form')]
                .map(f => f.dataset.action);
            return Number(table.dataset.viewSeq) >= seq
                && JSON.stringify(shown) === JSON.stringify(types);
        }""",
        arg=[types, seq],
        timeout=timeout_s * 1000,
    )


def wait_message(page: Page, code: str, timeout_s: float = 10) -> str:
    """Until `#message` shows a refusal with `code`; returns its text."""
    page.wait_for_function(
        "(code) => document.querySelector('#message').dataset.code === code",
        arg=code,
        timeout=timeout_s * 1000,
    )
    return page.inner_text("#message")


def field_error(page: Page, kind: str, field: str) -> str:
    return page.inner_text(
        f"#actions form[data-action={json.dumps(kind)}] .field-error[data-field={json.dumps(field)}]"
    )


def assert_draws_server_view(base_url: str, seat: Seat) -> dict[str, Any]:
    """The page drew the server's view for its seat (the same JSON, presence aside) and offers
    a form for each legal action of it. Returns the view."""
    view = server_view(base_url, seat.game_id, seat.session_token)
    drawn = shown_view(seat.page)
    assert _without_presence(drawn) == _without_presence(view), (
        f"{seat.name} drew {drawn}, the server's view is {view}"
    )
    assert seat.page.get_attribute("#table", "data-view-seq") == str(view["seq"])
    assert shown_forms(seat.page) == [a["type"] for a in view["you"]["legalActions"]]
    return view


def _without_presence(view: Mapping[str, Any]) -> dict[str, Any]:
    seats = [
        {k: v for k, v in seat.items() if k != "connected"} if isinstance(seat, dict) else seat
        for seat in view.get("seats") or []
    ]
    return {**view, "seats": seats}
