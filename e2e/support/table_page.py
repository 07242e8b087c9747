"""The demo table page (`/play/{gameId}`) as the browser tests drive it.

The page's contract (client_sdk/web/static/play.html, rejoin.browser.table): `#status` with
`data-status` (unseated while the join form waits for a name, connecting, connected,
reconnecting, closed) and `data-seq`; `#join-form` with `input[name=name]`;
`#actions button[data-action]` (and `input[name=amount]` for bet/raise);
`ol#events li[data-seq][data-kind]` (its `.line`: the event in words); `#resume-note`;
`#outage` (shown while reconnecting; `#table[data-paused]`); `#fatal[data-code]`;
`#phase[data-phase]`; `.seat[data-seat] .stack[data-stack]`, `.bet[data-bet]` (`data-seat` is
the API's seat, from 0; the page shows "seat N" from 1). The seat is saved in localStorage under
`rejoin.seat.<gameId>` (SavedSeat's JSON), so one browser context is one player.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from rejoin_testkit.polling import wait_for

# Pyodide's boot takes 2-3 s on these machines, up to 5.5 s on a loaded one; with several pages
# booting at once on 2 cores, more.
BOOT_TIMEOUT_S = 90.0
SEAT_KEY = "rejoin.seat.{}"


@dataclass
class Seat:
    page: Page
    name: str
    game_id: str

    @property
    def saved(self) -> dict[str, Any]:
        return saved_seat(self.page, self.game_id)

    @property
    def session_token(self) -> str:
        token: str = self.saved["sessionToken"]
        return token

    @property
    def player_id(self) -> str:
        player: str = self.saved["playerId"]
        return player


def open_table(context: BrowserContext, base_url: str, game_id: str) -> Page:
    page = context.new_page()
    page.goto(f"{base_url}/play/{game_id}")
    return page


def join(page: Page, name: str, game_id: str) -> Seat:
    """Fill the join form once it shows and wait for the first welcome."""
    page.locator("#join-form input[name=name]").wait_for(
        state="visible", timeout=BOOT_TIMEOUT_S * 1000
    )
    page.fill("#join-form input[name=name]", name)
    page.click("#join-form button[type=submit]")
    wait_connected(page, BOOT_TIMEOUT_S)
    return Seat(page, name, game_id)


# The page's status element.

STATUSES = ("unseated", "connecting", "connected", "reconnecting", "closed")

_READ_STATUS = """() => {
    const el = document.querySelector('#status');
    return el === null ? null : [el.dataset.status ?? null, el.dataset.seq ?? null];
}"""

_STATUS_IS = """([status, minSeq]) => {
    const el = document.querySelector('#status');
    if (el === null || el.dataset.status !== status) return false;
    if (minSeq === null) return true;
    const seq = Number.parseInt(el.dataset.seq ?? '', 10);
    return Number.isFinite(seq) && seq >= minSeq;
}"""


def status(page: Page) -> tuple[str | None, int | None]:
    """`#status`'s (data-status, data-seq) right now; None for what is missing or not a number."""
    found: list[str | None] | None = page.evaluate(_READ_STATUS)
    if found is None:
        return None, None
    state, seq = found
    try:
        return state, int(seq) if seq is not None else None
    except ValueError:
        return state, None


def wait_status(page: Page, wanted: str, timeout_s: float, *, min_seq: int | None = None) -> float:
    """Wait until `#status` shows `wanted` (and, if given, data-seq >= `min_seq`); return the
    seconds waited. Fails with the status last seen when time runs out."""
    if wanted not in STATUSES:
        raise ValueError(f"unknown status {wanted!r}; the page knows {', '.join(STATUSES)}")
    began = time.monotonic()
    try:
        page.wait_for_function(
            _STATUS_IS, arg=[wanted, min_seq], timeout=timeout_s * 1000, polling=10
        )
    except PlaywrightTimeout:
        try:
            seen: object = status(page)
        except PlaywrightError as again:
            seen = f"unreadable ({again.message})"
        want = wanted if min_seq is None else f"{wanted} with seq >= {min_seq}"
        raise AssertionError(
            f"#status did not become {want} within {timeout_s:.1f} s on {page.url}; "
            f"last seen (status, seq) = {seen}"
        ) from None
    return time.monotonic() - began


def wait_connected(page: Page, timeout_s: float, *, seq: int | None = None) -> None:
    """Until `#status` says connected (at `seq` or later when given)."""
    wait_status(page, "connected", timeout_s, min_seq=seq)


def saved_seat(page: Page, game_id: str) -> dict[str, Any]:
    text = page.evaluate("(key) => localStorage.getItem(key)", SEAT_KEY.format(game_id))
    assert isinstance(text, str), f"no seat saved in this browser for {game_id}"
    seat: dict[str, Any] = json.loads(text)
    return seat


def logged_lines(page: Page) -> list[tuple[int, str, str]]:
    """`(seq, kind, words)` of each line of the page's event log, in order."""
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#events li')]"
        ".map(li => [Number(li.dataset.seq), li.dataset.kind,"
        " li.querySelector('.line')?.textContent ?? ''])"
    )
    return [(int(seq), str(kind), str(words)) for seq, kind, words in rows]


def logged_events(page: Page) -> list[tuple[int, str]]:
    """`(seq, kind)` of each line of the page's event log, in order (resync lines included)."""
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#events li')]"
        ".map(li => [Number(li.dataset.seq), li.dataset.kind])"
    )
    return [(int(seq), str(kind)) for seq, kind in rows]


def assert_exactly_once(page: Page, server_seqs: list[int], *, through: int, label: str) -> None:
    """The page's log holds each of the server's seqs from its first one through `through` (at
    least) exactly once, in order: nothing lost, nothing twice."""
    seqs = [seq for seq, kind in logged_events(page) if kind != "resync"]
    assert seqs, f"{label}: the page shows no event"
    assert seqs[-1] >= through, f"{label}: the page's log ends at {seqs[-1]}, before {through}"
    twice = sorted(seq for seq, count in Counter(seqs).items() if count > 1)
    assert not twice, f"{label}: events shown twice: {twice}"
    assert seqs == sorted(seqs), f"{label}: events out of order: {seqs}"
    # Up to the last seq both have read: the game may go on between the two reads (the caller
    # waits for the page to reach the seq it cares about first).
    last = min(seqs[-1], max(server_seqs, default=0))
    seqs = [seq for seq in seqs if seq <= last]
    assert seqs, f"{label}: the server's log ends at {last}, before anything the page shows"
    expected = [seq for seq in server_seqs if seqs[0] <= seq <= last]
    missing = sorted(set(expected) - set(seqs))
    assert not missing, f"{label}: events never shown: {missing}"
    assert seqs == expected, f"{label}: shown {seqs}, the server has {expected}"


def server_view(base_url: str, game_id: str, session_token: str) -> dict[str, Any]:
    reply = httpx.get(
        f"{base_url}/api/game/{game_id}/state",
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    view: dict[str, Any] = reply.json()["gameState"]
    return view


def server_events(base_url: str, game_id: str, session_token: str) -> list[dict[str, Any]]:
    """The player's whole event log, from the server."""
    reply = httpx.get(
        f"{base_url}/api/game/{game_id}/events?after=0",
        headers={"Authorization": f"Bearer {session_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    events: list[dict[str, Any]] = reply.json()["events"]
    return events


def server_seqs(base_url: str, game_id: str, session_token: str) -> list[int]:
    return [int(event["seq"]) for event in server_events(base_url, game_id, session_token)]


def shown_view(page: Page) -> dict[str, Any]:
    """What the page draws: phase, and each seat's stack and bet."""
    found: dict[str, Any] = page.evaluate(
        """() => ({
            phase: document.querySelector('#phase')?.dataset.phase ?? null,
            seats: Object.fromEntries([...document.querySelectorAll('.seat[data-seat]')]
                .filter(s => s.dataset.playerId)
                .map(s => [s.dataset.seat, {
                    stack: Number(s.querySelector('.stack')?.dataset.stack),
                    bet: Number(s.querySelector('.bet')?.dataset.bet ?? 0),
                }])),
        })"""
    )
    return found


def drawn_like_server(page: Page, view: dict[str, Any]) -> bool:
    shown = shown_view(page)
    if shown["phase"] != view["phase"]:
        return False
    for seat in view["seats"]:
        drawn = shown["seats"].get(str(seat["seat"]))
        if drawn is None or drawn["stack"] != seat["stack"] or drawn["bet"] != seat["bet"]:
            return False
    return True


def wait_drawn_like_server(page: Page, base_url: str, seat: Seat, timeout_s: float) -> None:
    seen: list[dict[str, Any]] = []  # the server's last view, for the failure message

    def drawn() -> bool:
        view = server_view(base_url, seat.game_id, seat.session_token)
        seen.append(view)
        return drawn_like_server(page, view) and status(page)[1] == view["seq"]

    def detail() -> str:
        view = seen[-1]
        return (
            f"{seat.name}: the page shows {shown_view(page)} at {status(page)}, the "
            f"server {view['phase']} at seq {view['seq']}: "
            f"{[(s['seat'], s['stack'], s['bet']) for s in view['seats']]}"
        )

    wait_for(
        drawn,
        timeout=timeout_s,
        what=f"{seat.name}'s page to draw the server's view",
        interval=0.05,
        detail=detail,
    )


def passive_click(page: Page) -> str | None:
    """Check, or call, if this page offers it now; returns what was clicked. One evaluation, so
    a button re-drawn between looking and clicking is never waited for."""
    clicked = page.evaluate(
        """() => {
            for (const action of ['check', 'call']) {
                const button = document.querySelector(`#actions button[data-action=${action}]`);
                if (button && !button.disabled && button.offsetParent !== null) {
                    button.click();
                    return action;
                }
            }
            return null;
        }"""
    )
    return None if clicked is None else str(clicked)
