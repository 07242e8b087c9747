"""Card strings and the CSPRNG draw: only cards not yet dealt, never a stored deck order."""

from __future__ import annotations

import pytest

from rejoin_server.games.poker import cards


def test_deck_is_52_distinct_cards_in_the_agreed_format() -> None:
    assert len(set(cards.DECK)) == 52
    assert {"As", "Td", "2c", "Kh"} <= set(cards.DECK)
    assert all(c[0] in cards.RANKS and c[1] in cards.SUITS for c in cards.DECK)


def test_draw_never_returns_a_dealt_card() -> None:
    dealt = set(cards.DECK[:47])
    for _ in range(200):
        drawn = cards.draw(5, dealt)
        assert sorted(drawn) == sorted(set(cards.DECK) - dealt)
    seen: set[str] = set()
    for _ in range(400):
        seen.update(cards.draw(2, ()))
    assert seen == set(cards.DECK)  # every card can come (p of a miss is astronomically small)


def test_split_and_check() -> None:
    assert cards.split("AsKd") == ["As", "Kd"]
    assert cards.split("") == []
    for bad in ("As K", "AsAs", "Xx", "A"):
        with pytest.raises(ValueError, match="card"):
            cards.split(bad)
