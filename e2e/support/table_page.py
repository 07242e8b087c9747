"""The demo table page (`/play/{gameId}`) as the browser tests drive it.

The page's contract (client_sdk/web/static/play.html, rejoin.browser.table): `#status` with
`data-status` (connecting, connected, reconnecting, closed) and `data-seq`; `#join-form` with
`input[name=name]`; `#actions button[data-action]` (and `input[name=amount]` for bet/raise);
`ol#events li[data-seq][data-kind]`; `#resume-note`; `#fatal[data-code]`; `#phase[data-phase]`;
`.seat[data-seat] .stack[data-stack]`. The seat is saved in localStorage under
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


def wait_connected(page: Page, timeout_s: float, *, seq: int | None = None) -> None:
    """Until `#status` says connected (at `seq` or later when given)."""
    page.wait_for_function(
        """(minSeq) => {
            const s = document.querySelector('#status');
            return s && s.dataset.status === 'connected'
                && (minSeq === null || Number(s.dataset.seq) >= minSeq);
        }""",
        arg=seq,
        timeout=timeout_s * 1000,
        polling=20,
    )


def saved_seat(page: Page, game_id: str) -> dict[str, Any]:
    text = page.evaluate("(key) => localStorage.getItem(key)", SEAT_KEY.format(game_id))
    assert isinstance(text, str), f"no seat saved in this browser for {game_id}"
    seat: dict[str, Any] = json.loads(text)
    return seat


def status_of(page: Page) -> tuple[str, int | None]:
    found = page.evaluate(
        "() => { const s = document.querySelector('#status');"
        " return [s.dataset.status, s.dataset.seq]; }"
    )
    return str(found[0]), int(found[1]) if found[1] not in (None, "") else None


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


def server_seqs(base_url: str, game_id: str, session_token: str) -> list[int]:
    reply = httpx.get(
        f"{base_url}/api/game/{game_id}/events?after=0",
        headers={"Authorization": f"Bearer {session_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return [int(event["seq"]) for event in reply.json()["events"]]


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
    deadline = time.monotonic() + timeout_s
    while True:
        view = server_view(base_url, seat.game_id, seat.session_token)
        if drawn_like_server(page, view) and status_of(page)[1] == view["seq"]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{seat.name}: the page shows {shown_view(page)} at {status_of(page)}, the "
                f"server {view['phase']} at seq {view['seq']}: "
                f"{[(s['seat'], s['stack'], s['bet']) for s in view['seats']]}"
            )
        time.sleep(0.05)


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
