"""What the table page says before a seat is taken (`rejoin.browser.join_text`): the table in one
line, the free seats offered when the one asked for cannot be had (shown from 1, sent from 0), and
a finished game's result."""

from __future__ import annotations

from typing import Any

from rejoin.browser.join_text import join_choice, result_text, seat_label

POKER = {
    "kind": "poker",
    "seats": 4,
    "seated": 2,
    "freeSeats": [0, 3],
    "open": True,
    "settings": {"smallBlind": 5, "bigBlind": 10},
}


def test_a_table_in_one_line() -> None:
    choice = join_choice(POKER, None)
    assert choice == {
        "summary": "poker · 2 of 4 seats taken · blinds 5/10",
        "free": None,
        "note": None,
        "closed": False,
    }
    assert join_choice({"kind": "dice", "seats": None, "seated": None}, None)["summary"] == "dice"


def test_a_free_seat_asked_for_is_no_question() -> None:
    assert join_choice(POKER, 3)["note"] is None


def test_a_taken_seat_offers_the_free_ones_counted_from_one() -> None:
    choice = join_choice(POKER, 1)
    assert choice["note"] == "Seat 2 is taken; choose a free seat:"
    assert choice["free"] == [0, 3]  # sent as the API numbers them
    assert [seat_label(s) for s in choice["free"]] == ["seat 1", "seat 4"]


def test_a_seat_the_table_does_not_have() -> None:
    choice = join_choice(POKER, 8)
    assert choice["note"] == "This table has no seat 9 (its seats are 1 to 4); choose a free seat:"
    assert choice["free"] == [0, 3]


def test_a_full_table_says_so_and_offers_nothing() -> None:
    full = {**POKER, "seated": 4, "freeSeats": [], "open": False}
    for asked in (0, None):  # a seat link, or the table's link
        choice = join_choice(full, asked)
        assert (choice["note"], choice["free"], choice["closed"]) == (
            "This table is full.",
            None,
            True,
        )
    # An older server says nothing of `open`: the free seats alone tell.
    assert join_choice({**full, "open": None}, 0)["closed"]


def test_a_started_game_that_takes_no_players_says_so() -> None:
    started = {**POKER, "kind": "liars-dice", "freeSeats": [3], "open": False}
    choice = join_choice(started, 3)
    assert (choice["note"], choice["free"], choice["closed"]) == (
        "This game has started and takes no more players.",
        None,
        True,
    )


def test_unknown_free_seats_offer_nothing() -> None:
    assert join_choice({"kind": "rps", "freeSeats": None}, 1)["note"] is None


def seats(*stacks: tuple[str, int]) -> dict[str, Any]:
    return {"seats": [{"seat": i, "name": n, "stack": s} for i, (n, s) in enumerate(stacks)]}


def test_the_result_names_the_chips_and_the_winner() -> None:
    assert result_text(seats(("Ann", 400), ("Bo", 0))) == "Final chips: Ann 400, Bo 0. Ann won."
    # Abandoned with chips on both sides: nobody won.
    assert result_text(seats(("Ann", 150), ("Bo", 250))) == "Final chips: Ann 150, Bo 250."
    assert result_text(seats(("Ann", 400))) == "Final chips: Ann 400."


def test_a_views_winner_is_named_by_its_seat() -> None:
    view = {"players": [{"seat": 0, "name": "Ann"}, {"seat": 1, "name": "Bo"}], "winner": 1}
    assert result_text(view) == "Bo won."
    assert result_text({"winner": 2}) == "seat 3 won."
    assert result_text({"winner": "Team red"}) == "Team red won."


def test_no_result_without_a_view() -> None:
    assert result_text(None) == ""
    assert result_text({"status": "completed"}) == ""
