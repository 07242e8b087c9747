"""The generic table page (`/play/{gameId}` of a game that is not poker), in real Chromium against
real server processes serving games with `--game`:

- The example game, Liar's Dice (examples/liars_dice), on SQLite and PostgreSQL: two pages join
  and bid through the forms built from the view's legal actions, each sees its own dice only; what
  does not fit a field is said beside it and a bid the game refuses beside the forms. The server
  is killed with SIGKILL mid-round (both pages pause under the outage overlay) and restarted:
  both pages are connected again within 2 s with the server's view, their forms and their event
  log intact (every seq once); then they play the game to its end.
- A tiny game with a field of each kind the forms know (e2e/support/guess_game.py: a number, a
  checkbox, a choice), created in the lobby (its kind chosen, its settings as JSON), played to its
  end through the forms.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.support.browser import ContextFactory, screenshot
from e2e.support.generic_page import (
    Chooser,
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
    paused_at_drop,
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
from rejoin_testkit.api import Api
from rejoin_testkit.example_game import LIARS_DICE, LIARS_DICE_ARGS, liars_dice_env
from rejoin_testkit.polling import wait_for
from rejoin_testkit.processes import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SLOW_CLOCK_MS = 600_000  # no action clock fires while the test looks at the pages


def bid_low(view: dict[str, Any]) -> Move:
    """Liar's Dice: the smallest raise of the standing bid, and a challenge once it is of 3s or
    more (so that a round ends after a few bids)."""
    bid = view["currentBid"]
    if bid is None:
        return "bid", {"count": 1, "face": 1}
    if bid["face"] >= 3:
        return "challenge", {}
    return "bid", {"count": bid["count"], "face": bid["face"] + 1}


def guess(view: dict[str, Any]) -> Move:
    """The guess game: a hint on each player's first turn, then guesses (never one's own number,
    which the game refuses), sure every other time."""
    you = view["you"]
    if view["turn"] < len(view["seats"]):
        return "hint", {"ask": "high" if you["seat"] % 2 else "odd"}
    return "guess", {"value": 1 if you["secret"] != 1 else 2, "sure": view["turn"] % 2 == 0}


@pytest.fixture
def dice_server(spawn: Spawn, db_url: str) -> ServerProcess:
    """A server on SQLite, then on PostgreSQL, serving Liar's Dice besides poker."""
    return spawn(db_url, *LIARS_DICE_ARGS, env=liars_dice_env())


@pytest.mark.timeout(300)
def test_liar_s_dice_through_the_forms_resumes_within_2_s_of_a_kill_9(
    dice_server: ServerProcess,
    make_api: Callable[[ServerProcess], Api],
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, base = dice_server, dice_server.url
    api = make_api(server)
    settings = {"seats": 2, "dice": 2, "actionTimeoutMs": SLOW_CLOCK_MS, "nextRoundDelayMs": 0}
    game_id = api.create_game(kind=LIARS_DICE, **settings).ok(201)["gameId"]
    people = seat_pages(context_factory, base, game_id, ["ann", "ben"])
    for seat in people:
        assert seat.page.get_attribute("body", "data-page") == "generic"
        assert shown_forms(seat.page) == []  # nobody moves before the start
    people[0].page.click("#start")
    first, view = wait_for(lambda: mover(base, people), timeout=10, what="the first round")
    wait_forms(first.page, ["bid"], view["seq"])
    for seat in people:
        assert_own_dice_only(base, seat, "dice")

    # What does not fit a field is said beside it, and nothing is sent.
    fill_and_submit(first.page, ("bid", {"count": 1, "face": 7}))
    first.page.wait_for_function(
        "() => document.querySelector('#actions .field-error[data-field=face]').textContent"
    )
    assert "from 1 to 6" in field_error(first.page, "bid", "face")
    play_move(base, people, bid_low)  # 1 x 1
    play_move(base, people, bid_low)  # 1 x 2
    # A bid within the fields' bounds that does not beat the standing one: the game refuses it,
    # and the page says so beside the forms.
    bidder, view = wait_for(lambda: mover(base, people), timeout=10, what="the next bidder")
    wait_forms(bidder.page, ["bid", "challenge"], view["seq"])
    fill_and_submit(bidder.page, ("bid", {"count": 1, "face": 1}))
    assert "Bid higher than 1 x 2" in wait_message(bidder.page, "invalid_action")
    assert server_view(base, game_id, bidder.session_token)["seq"] == view["seq"]

    kill_9_and_resume(server, people, request, capsys)
    for seat in people:
        assert_own_dice_only(base, seat, "dice")

    play_to_the_end(base, people, bid_low, "game_completed")
    screenshot(people[0].page, request, "ann-game-over")


def test_a_field_of_each_kind_through_the_forms_of_a_game_made_in_the_lobby(
    spawn: Spawn,
    sqlite_url: str,
    context_factory: ContextFactory,
    request: pytest.FixtureRequest,
) -> None:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    server = spawn(
        sqlite_url, "--game", "e2e.support.guess_game:GuessEngine", env={"PYTHONPATH": path}
    )
    base = server.url
    lobby = context_factory("lobby", only_origin=base).context
    game_id = create_from_lobby(lobby, base, "guess", actionTimeoutMs=SLOW_CLOCK_MS, rounds=2)
    people = seat_pages(context_factory, base, game_id, ["ann", "ben"])
    people[0].page.click("#start")
    first, view = wait_for(lambda: mover(base, people), timeout=10, what="the game to start")
    wait_forms(first.page, ["guess", "hint", "pass"], view["seq"])
    # The label the game gave the move, else its type.
    labels = first.page.eval_on_selector_all(
        "#actions form button[type=submit]", "buttons => buttons.map(b => b.textContent)"
    )
    assert labels == ["Guess the next player's number", "hint", "pass"]
    for seat in people:
        assert_own_dice_only(base, seat, "secret")

    # The checkbox and the number: guessing one's own number is refused by the game.
    own_number = int(you_row(first.page, "secret"))
    fill_and_submit(first.page, ("guess", {"value": own_number, "sure": True}))
    assert "own number" in wait_message(first.page, "invalid_action")
    assert server_view(base, game_id, first.session_token)["seq"] == view["seq"]

    moves = play_to_the_end(base, people, guess, "game_over")
    assert {kind for kind, _ in moves} == {"hint", "guess"}  # the choice, the number and the box
    screenshot(people[1].page, request, "ben-game-over")


def assert_own_dice_only(base_url: str, seat: Seat, secret: str) -> None:
    """The page shows its player's own secret (`you.<secret>`) and nobody else's."""
    you = server_view(base_url, seat.game_id, seat.session_token)["you"]
    assert you[secret] is not None
    seat.page.wait_for_function(
        "([key, own]) => document.querySelector(`#you tr[data-key=${key}] td`)?.textContent === own",
        arg=[secret, you_row_text(you[secret])],
    )
    others = [s for s in shown_view(seat.page)["seats"] if s["seat"] != you["seat"]]
    assert others, "the page shows no other seat"
    assert all(s[secret] is None for s in others), others


def you_row_text(value: Any) -> str:
    """How the page writes a value of `you`: scalars as text, lists and objects as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def kill_9_and_resume(
    server: ServerProcess,
    people: list[Seat],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """kill -9, restart: every page is connected again within 2 s of the restart, says it
    resumed, draws the server's view and its forms, and its log is intact."""
    base = server.url
    seq = server_view(base, people[0].game_id, people[0].session_token)["seq"]
    for seat in people:
        wait_connected(seat.page, 10, seq=seq)
        screenshot(seat.page, request, f"{seat.name}-before-kill")
    watch([s.page for s in people])
    server.kill9()
    wait_dropped([s.page for s in people])
    restarted_at_ms = time.time() * 1000
    healthy_after = server.restart()
    # The page paused under the same overlay as the poker table the moment it dropped (read
    # after the restart: checking while the server is down would delay it).
    for seat in people:
        overlay, enabled = paused_at_drop(seat.page)
        assert overlay, f"{seat.name}: no outage overlay when the page dropped"
        assert not enabled, f"{seat.name}: controls took clicks while reconnecting: {enabled}"
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
        assert not seat.page.locator("#outage").is_visible(), f"{seat.name}: still paused"
        screenshot(seat.page, request, f"{seat.name}-after-resume")


def play_to_the_end(base_url: str, people: list[Seat], choose: Chooser, last: str) -> list[Move]:
    """Play through the forms until the game is completed (its last event of kind `last`); then
    every page shows it over, with no form, and its log is the server's, every event once."""
    first = people[0]
    moves = []
    while server_view(base_url, first.game_id, first.session_token)["status"] != "completed":
        moves.append(play_move(base_url, people, choose))
    final = server_view(base_url, first.game_id, first.session_token)
    for seat in people:
        wait_connected(seat.page, 10, seq=final["seq"])
        seat.page.wait_for_selector("#table[data-game-status=completed]")
        assert shown_forms(seat.page) == []
        assert logged_events(seat.page)[-1] == (final["seq"], last)
        assert_log_intact(base_url, seat, final["seq"])
    return moves


def assert_log_intact(base_url: str, seat: Seat, through: int) -> None:
    """The page's log is the server's from seq 1 on, each event once, in order."""
    assert logged_events(seat.page)[0][0] == 1, f"{seat.name}: the log does not start at seq 1"
    assert_exactly_once(
        seat.page,
        server_seqs(base_url, seat.game_id, seat.session_token),
        through=through,
        label=seat.name,
    )
