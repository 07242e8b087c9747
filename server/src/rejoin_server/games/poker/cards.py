"""Card strings ("As", "Td") and the one place cards are drawn: a CSPRNG over the cards not yet dealt.

No deck order exists anywhere: each card is chosen with `secrets` at the moment it is dealt, from the
52 cards minus those already out in this hand, and then lives only in the event that deals it.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable

RANKS = "23456789TJQKA"
SUITS = "cdhs"
DECK: tuple[str, ...] = tuple(rank + suit for rank in RANKS for suit in SUITS)
_DECK_SET = frozenset(DECK)

_rng = secrets.SystemRandom()


def is_card(value: object) -> bool:
    return isinstance(value, str) and value in _DECK_SET


def draw(count: int, dealt: Collection[str]) -> list[str]:
    """`count` distinct cards chosen uniformly at random among those not in `dealt`."""
    return _rng.sample([card for card in DECK if card not in dealt], count)


def split(cards: str) -> list[str]:
    """ "AsKd" -> ["As", "Kd"]: the compact form the replay log keeps."""
    if len(cards) % 2:
        raise ValueError(f"odd-length card string {cards!r}")
    out = [cards[i : i + 2] for i in range(0, len(cards), 2)]
    check(out)
    return out


def check(cards: Iterable[object]) -> list[str]:
    """The cards as strings; ValueError for anything that is not a card or for a repeated card."""
    out: list[str] = []
    for card in cards:
        if not is_card(card):
            raise ValueError(f"{card!r} is not a card (rank {RANKS}, suit {SUITS}, e.g. 'As')")
        assert isinstance(card, str)
        if card in out:
            raise ValueError(f"card {card} appears twice")
        out.append(card)
    return out
