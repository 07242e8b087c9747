"""The generic table page (`/play/{gameId}` of a game that is not poker), in real Chromium against
a real server process serving a game of its own with `--game`: the game is created in the lobby
(its kind chosen, its settings as JSON), two pages join, play through the
forms built from the view's legal actions (a number box, a checkbox, a choice), see what they
typed wrong beside the field and what the server refused beside the forms; the server is killed
with SIGKILL and restarted, and both pages are connected again within 2 s with the server's view,
their forms and their event log intact (every seq once); then they play the game to its end.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from e2e.support.browser import ContextFactory, screenshot
from e2e.support.generic_page import (
    Move,
    assert_draws_server_view,
    create_from_lobby,
    field_error,
    fill_and_submit,
    mover,
    play_move,
    shown_forms,
    shown_view,
    wait_forms,
    wait_message,
    you_row,
)
from e2e.support.resume import (
    RESUME_LIMIT_S,
    report,
    resumed_after,
    seat_pages,
    wait_dropped,
    wait_resumed,
    watch,
)
from e2e.support.spawn import Spawn
from e2e.support.table_page import (
    Seat,
    assert_exactly_once,
    logged_events,
    server_seqs,
    server_view,
    wait_connected,
)
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "e2e.support.guess_game:GuessEngine"
KIND = "guess"
SLOW_CLOCK_MS = 600_000  # no action clock fires while the test looks at the pages


def choose(view: dict[str, Any]) -> Move:
    """A move of the guess game through its forms: a hint on the first turn of each player,
    then guesses (never one's own number, which the game refuses), sure every other time."""
    you = view["you"]
    if view["turn"] < len(view["seats"]):
        return "hint", {"ask": "high" if you["seat"] % 2 else "odd"}
    value = 1 if you["secret"] != 1 else 2
    return "guess", {"value": value, "sure": view["turn"] % 2 == 0}


@pytest.fixture
def game_server(spawn: Spawn, db_url: str) -> ServerProcess:
    """A server on SQLite, then on PostgreSQL, serving the guess game besides poker."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return spawn(db_url, "--game", ENGINE, env={"PYTHONPATH": path})


@pytest.mark.timeout(300)
def test_two_pages_play_through_the_forms_and_resume_within_2_s_of_a_kill_9(
    game_server: ServerProcess,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, base = game_server, game_server.url
    lobby = context_factory("lobby", only_origin=base).context
    game_id = create_from_lobby(lobby, base, KIND, actionTimeoutMs=SLOW_CLOCK_MS, rounds=3)
    people = seat_pages(context_factory, base, game_id, ["ann", "ben"])
    for seat in people:
        assert seat.page.get_attribute("body", "data-page") == "generic"
        assert shown_forms(seat.page) == []  # nobody moves before the start

    people[0].page.click("#start")
    first, view = wait_for(lambda: mover(base, people), timeout=10, what="the game to start")
    types = [a["type"] for a in view["you"]["legalActions"]]
    wait_forms(first.page, types, view["seq"])
    # Each player sees their own secret number, and only theirs.
    for seat in people:
        you = server_view(base, game_id, seat.session_token)["you"]
        seat.page.wait_for_function(
            "(own) => document.querySelector('#you tr[data-key=secret] td')?.textContent === own",
            arg=str(you["secret"]),
        )
        others = [s for s in shown_view(seat.page)["seats"] if s["seat"] != you["seat"]]
        assert others, "the page shows no other seat"
        assert all(s["secret"] is None for s in others), others

    assert_refusals_are_shown(base, first)
    for _ in range(3):
        play_move(base, people, choose)
    before_kill = server_view(base, game_id, people[0].session_token)
    for seat in people:
        wait_connected(seat.page, 10, seq=before_kill["seq"])
        screenshot(seat.page, request, f"{seat.name}-before-kill")

    kill_9_and_resume(server, people, before_kill["seq"], request, capsys)

    # Play on to the end, through the forms.
    while server_view(base, game_id, people[0].session_token)["status"] != "completed":
        play_move(base, people, choose)
    final = server_view(base, game_id, people[0].session_token)
    for seat in people:
        wait_connected(seat.page, 10, seq=final["seq"])
        seat.page.wait_for_selector("#table[data-game-status=completed]")
        assert shown_forms(seat.page) == []
        assert logged_events(seat.page)[-1] == (final["seq"], "game_over")
        assert_log_intact(base, seat, final["seq"])
    screenshot(people[0].page, request, "ann-game-over")


def assert_log_intact(base_url: str, seat: Seat, through: int) -> None:
    """The page's log is the server's from seq 1 on, each event once, in order."""
    assert logged_events(seat.page)[0][0] == 1, f"{seat.name}: the log does not start at seq 1"
    assert_exactly_once(
        seat.page,
        server_seqs(base_url, seat.game_id, seat.session_token),
        through=through,
        label=seat.name,
    )


def assert_refusals_are_shown(base_url: str, first: Seat) -> None:
    """On `first`'s turn: what does not fit a field is said beside it and nothing is sent; what
    the server refuses (guessing one's own number) is said beside the forms."""
    before = server_view(base_url, first.game_id, first.session_token)["seq"]
    fill_and_submit(first.page, ("guess", {"value": 11, "sure": False}))
    first.page.wait_for_function(
        "() => document.querySelector('#actions form[data-action=guess] .field-error').textContent"
    )
    assert "1 to 10" in field_error(first.page, "guess", "value")
    own_number = int(you_row(first.page, "secret"))
    fill_and_submit(first.page, ("guess", {"value": own_number, "sure": True}))
    assert "own number" in wait_message(first.page, "invalid_action")
    assert server_view(base_url, first.game_id, first.session_token)["seq"] == before


def kill_9_and_resume(
    server: ServerProcess,
    people: list[Seat],
    seq: int,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """kill -9 with the game at `seq`, restart: every page is connected again within 2 s of the
    restart, says it resumed, draws the server's view and its forms, and its log is intact."""
    base = server.url
    watch([s.page for s in people])
    server.kill9()
    wait_dropped([s.page for s in people])
    restarted_at_ms = time.time() * 1000
    healthy_after = server.restart()
    for seat in people:
        wait_resumed(seat.page, restarted_at_ms, seq=seq)
    resumed = [resumed_after(seat.page, restarted_at_ms) for seat in people]
    database = (server.database_url or "?").split(":", 1)[0]
    with capsys.disabled():
        print(
            f"\n[generic page, {database}] server healthy {healthy_after * 1000:.0f} ms after "
            "the restart; " + report("pages connected", resumed)
        )
    assert max(resumed) <= RESUME_LIMIT_S, report("resumed", resumed)
    for seat in people:
        note = seat.page.locator("#resume-note")
        assert note.is_visible()
        assert note.inner_text().startswith("resumed in "), note.inner_text()
        assert note.get_attribute("data-missed") == "0"  # nothing moved while the server was gone
        assert_draws_server_view(base, seat)
        assert_log_intact(base, seat, seq)
        screenshot(seat.page, request, f"{seat.name}-after-resume")
