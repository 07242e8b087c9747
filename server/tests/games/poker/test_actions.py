"""Legal actions and minRaiseTo, straight from pokerkit's rules, as the player to act sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Game = Any  # conftest's Driver


def test_legal_actions_preflop_and_after_a_raise(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3)
    game.start()
    assert game.legal() == [
        {"type": "fold"},
        {"type": "call", "amount": 2},
        {"type": "raise", "min": 4, "max": 200},
        {"type": "allin", "amount": 200},
    ]
    assert game.table.view(None)["minRaiseTo"] == 4
    events = game.act("raise", 10)
    assert dict(events[0].data) == {"seat": 0, "type": "raise", "amount": 10}
    assert game.table.view(None)["minRaiseTo"] == 18  # a raise of 8 must be matched
    assert game.legal() == [
        {"type": "fold"},
        {"type": "call", "amount": 9},
        {"type": "raise", "min": 18, "max": 200},
        {"type": "allin", "amount": 200},
    ]
    others = [p for p in game.players if game.table.seat_of(p) != game.to_act]
    assert all(game.table.view(p)["you"]["legalActions"] == [] for p in others)
    assert game.table.view(None)["you"] is None
    assert game.table.view("stranger0001")["you"] is None


def test_legal_actions_after_the_flop(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    game.start()
    game.act("call")
    game.act("check")
    assert game.legal() == [
        {"type": "check"},
        {"type": "bet", "min": 2, "max": 198},
        {"type": "allin", "amount": 198},
    ]
    game.act("bet", 7)
    view = game.table.view(None)
    assert view["pots"] == [{"amount": 4, "eligibleSeats": [0, 1]}]
    assert [s["bet"] for s in view["seats"]] == [0, 7]
    assert game.legal() == [
        {"type": "fold"},
        {"type": "call", "amount": 7},
        {"type": "raise", "min": 14, "max": 198},
        {"type": "allin", "amount": 198},
    ]


def test_allin_for_less_than_a_call(uneven_stacks: Game) -> None:
    game = uneven_stacks  # stacks 100 / 50 / 150, button 1 acts first
    game.act("fold")
    game.act("raise", 120)  # seat 2 (small blind) raises more than seat 0 has
    assert game.to_act == 0
    assert game.legal() == [
        {"type": "fold"},
        {"type": "call", "amount": 98},
        {"type": "allin", "amount": 100},
    ]
    assert game.table.view(None)["minRaiseTo"] is None
    events = game.act("call")
    assert dict(events[0].data) == {"seat": 0, "type": "call", "amount": 98}
    game.assert_consistent()
