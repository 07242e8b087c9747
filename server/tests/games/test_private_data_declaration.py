"""`private_data`, read off an engine the way `joins_while_playing` is (`games.kinds`): a
`PrivateData` with paths of dotted keys, or nothing (then everything is private)."""

from __future__ import annotations

from typing import Any

import pytest

from rejoin_server.games import PrivateData
from rejoin_server.games.kinds import GameKinds
from rejoin_server.games.poker import PokerEngine
from rejoin_server.store.sealing import EVERYTHING, plan_of


class Declares(PokerEngine):
    kind = "declares"

    def __init__(self, private: Any) -> None:
        super().__init__()
        self.private_data = private


def test_poker_declares_its_hole_cards_and_an_engine_without_a_declaration_nothing() -> None:
    kinds = GameKinds([PokerEngine()])
    assert kinds.private_data("poker") == PrivateData({"hole_cards": ("cards",)}, ("h.c",))
    undeclared = Declares(None)
    assert GameKinds([undeclared]).private_data("declares") is None
    assert plan_of(None) is EVERYTHING


@pytest.mark.parametrize(
    ("private", "error", "says"),
    [
        ({"hole_cards": ["cards"]}, TypeError, "must be a rejoin_server.games.PrivateData"),
        (PrivateData(state=("h..c",)), ValueError, "the path 'h..c': write keys joined by"),
        (PrivateData({"dealt": (".cards",)}), ValueError, "the path '.cards'"),
    ],
)
def test_a_malformed_declaration_stops_the_server_saying_why(
    private: Any, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        GameKinds([Declares(private)])
