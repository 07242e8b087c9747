"""`rejoin.browser.page_support.with_presence`: the presence the server announced since the last
welcome, folded into a view's seats (the table pages draw the result)."""

from __future__ import annotations

from typing import Any

from rejoin.browser.page_support import with_presence

VIEW: dict[str, Any] = {
    "seq": 7,
    "seats": [
        {"seat": 0, "playerId": "p-ann", "connected": False},
        {"seat": 1, "playerId": "p-ben", "connected": True},
        {"seat": 2, "playerId": None, "connected": False},
    ],
}


def test_news_replace_the_views_presence_for_those_players_only() -> None:
    folded = with_presence(VIEW, {"p-ann": True, "p-ben": False, "p-gone": True})
    assert [seat["connected"] for seat in folded["seats"]] == [True, False, False]
    assert folded["seq"] == 7
    assert VIEW["seats"][0]["connected"] is False  # the view itself is left as it was


def test_no_news_or_no_seats_leave_the_view_as_it_is() -> None:
    assert with_presence(VIEW, {}) is VIEW
    other = {"seq": 3, "board": []}
    assert with_presence(other, {"p-ann": True}) is other
