"""What the lobby reads of a game (`host.seating`): its seats from its settings, the seats taken
from the spectator's view, and its final view once completed, without player ids."""

from __future__ import annotations

from typing import Any

from rejoin_server.games.base import JsonDict
from rejoin_server.host.seating import free_seats, seating_of


class Viewed:
    """A game's state, as much as `seating_of` reads of it."""

    def __init__(self, view: JsonDict, status: str = "waiting", fails: bool = False) -> None:
        self._view = view
        self.status = status
        self.fails = fails
        self.game_id = "g1"

    def view(self, player_id: str | None) -> JsonDict:
        assert player_id is None  # the spectator's, never a player's
        if self.fails:
            raise RuntimeError("the game's bug")
        return self._view


def seating(view: JsonDict, settings: dict[str, Any], **state: Any) -> Any:
    return seating_of(Viewed(view, **state), settings)  # type: ignore[arg-type]


def test_the_seats_taken_are_the_views_with_a_player() -> None:
    view = {"seats": [{"seat": 2, "playerId": "a"}, {"seat": 0, "playerId": None}, {"seat": True}]}
    found = seating(view, {"seats": 4})
    assert found.data == {"seats": 4, "taken": [2]}
    assert found.open
    assert free_seats(found.data) == [0, 1, 3]


def test_players_stand_in_for_seats_and_their_entries_need_no_player_id() -> None:
    found = seating(
        {"players": [{"seat": 0, "name": "Ann"}, {"seat": 1, "name": "Bo"}]}, {"seats": 2}
    )
    assert found.data == {"seats": 2, "taken": [0, 1]}
    assert not found.open  # full


def test_a_game_without_a_seats_setting_is_never_open() -> None:
    for settings in ({}, {"seats": "6"}, {"seats": True}, {"seats": 0}, {"seats": 101}):
        found = seating({"players": []}, settings)
        assert found.data == {"seats": None, "taken": []}
        assert not found.open
        assert free_seats(found.data) is None


def test_a_completed_game_keeps_its_final_view_without_player_ids() -> None:
    view = {"status": "completed", "seats": [{"seat": 0, "playerId": "sub-1", "name": "Ann"}],
            "winner": {"playerId": "sub-1", "seat": 0}}  # fmt: skip
    found = seating(view, {"seats": 2}, status="completed")
    assert not found.open  # a free seat, but over
    assert found.data["final"] == {
        "status": "completed",
        "seats": [{"seat": 0, "name": "Ann"}],
        "winner": {"seat": 0},
    }
    too_big = seating({**view, "log": "x" * 40_000}, {"seats": 2}, status="completed")
    assert "final" not in too_big.data


def test_a_view_that_fails_gives_no_seating() -> None:
    assert seating({}, {"seats": 2}, fails=True) is None
