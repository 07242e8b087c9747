"""`HighHand`: pokerkit's `StandardHighHand`, ranked by pokerkit's own table, without its per-call
cost.

pokerkit ranks a showdown by asking `StandardHighHand.from_game` again and again for the same
cards: whether each player can still win (`can_win_now`, every player's hand for every player) as
hands are shown or mucked, then again for each pot pushed. Each call tries the 21 five-card
combinations of seven cards and looks each up in pokerkit's table two or three times, parsing the
cards again every time. At a 6-seat table that held the event loop for 6 ms (median) to 30 ms per
showdown, stalling every table of the process.

This subclass changes how often pokerkit's table is read, never what it says:

- each kind of five cards (its multiset of ranks, and whether it is one suit: exactly what
  pokerkit's table is keyed by) is looked up in pokerkit's table once per process
  (`StandardHighHand.lookup.get_entry_or_none`) and kept (`_ENTRIES`: at most the 7,462 kinds of
  hand there are); `prepare` fills it in the background warm-up, so that showdowns after the
  first seconds of a process do not pay for it;
- a hand keeps its `Entry` instead of looking it up again on each comparison;
- `from_game` remembers its last answers (`_best`), so the same cards asked again in one showdown
  are ranked once.

Same combination order and the same "first strongest wins" tie rule as pokerkit's `from_game`,
so the hand chosen is the very same five cards. Cards pokerkit could not rank here (an unknown
card) go to pokerkit's own `from_game`. The game definition `HoldemGame` is pokerkit's
`NoLimitTexasHoldem` with this hand type, the way pokerkit defines its variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations
from typing import ClassVar

from pokerkit import Card, CardsLike, NoLimitTexasHoldem, Rank, StandardHighHand
from pokerkit.hands import Hand as PokerkitHand
from pokerkit.lookups import Entry

_COMBINATIONS = {n: tuple(combinations(range(n), 5)) for n in range(5, 8)}
# A distinct prime per rank: the product of five cards' primes names their multiset of ranks.
_PRIME = dict(zip(Rank, (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43), strict=False))
_PRIME.pop(Rank.UNKNOWN, None)

# (product of rank primes, one suit?) -> pokerkit's entry for such five cards (None: no hand).
_ENTRIES: dict[tuple[int, bool], Entry | None] = {}


class HighHand(StandardHighHand):
    """A `StandardHighHand` that knows its entry (see the module docstring)."""

    low: ClassVar[bool] = False

    def __init__(self, cards: CardsLike, entry: Entry | None = None) -> None:
        self._cards = Card.clean(cards)
        if entry is None:
            entry = _entry_of(self._cards)
            if entry is None:
                raise ValueError(f"The cards {cards!r} form an invalid HighHand hand.")
        self._entry = entry

    @property
    def cards(self) -> tuple[Card, ...]:
        return self._cards

    @property
    def entry(self) -> Entry:
        return self._entry

    @classmethod
    def from_game(cls, hole_cards: CardsLike, board_cards: CardsLike = ()) -> PokerkitHand:
        return _best(Card.clean(hole_cards) + Card.clean(board_cards))


class HoldemGame(NoLimitTexasHoldem):
    """pokerkit's No-Limit Texas Hold'em, its hands ranked as `HighHand`s."""

    hand_types: ClassVar[tuple[type[PokerkitHand], ...]] = (HighHand,)


def prepare() -> None:
    """Look up every kind of five cards in pokerkit's table now (its table is built first):
    about 0.15 s of CPU, for the warm-up thread, so that no showdown on the event loop pays it."""
    for five in _rank_multisets(list(_PRIME), 5):
        # Four suits in turn: a rank four times is four distinct cards, and never one suit.
        _entry_of(tuple(Card.parse("".join(r + s for r, s in zip(five, "cdhsc", strict=True)))))
        if len(set(five)) == 5:
            _entry_of(tuple(Card.parse("".join(r + "s" for r in five))))


def _rank_multisets(ranks: Sequence[Rank], size: int) -> list[tuple[Rank, ...]]:
    """Every multiset of `size` ranks with no rank more than four times."""
    out: list[tuple[Rank, ...]] = []

    def extend(start: int, prefix: tuple[Rank, ...]) -> None:
        if len(prefix) == size:
            out.append(prefix)
            return
        for i in range(start, len(ranks)):
            if prefix.count(ranks[i]) < 4:
                extend(i, (*prefix, ranks[i]))

    extend(0, ())
    return out


def _key(cards: Sequence[Card]) -> tuple[int, bool] | None:
    product = 1
    for card in cards:
        prime = _PRIME.get(card.rank)
        if prime is None:
            return None
        product *= prime
    suit = cards[0].suit
    return product, all(card.suit == suit for card in cards)


def _entry_of(cards: Sequence[Card]) -> Entry | None:
    """pokerkit's entry for five cards, None if they form no hand."""
    if len(cards) != 5:
        return None
    key = _key(cards)
    if key is None:  # an unknown card: pokerkit's table answers (it raises KeyError)
        return StandardHighHand.lookup.get_entry_or_none(cards)
    try:
        return _ENTRIES[key]
    except KeyError:
        entry = _ENTRIES[key] = StandardHighHand.lookup.get_entry_or_none(cards)
        return entry


@lru_cache(maxsize=4096)
def _best(cards: tuple[Card, ...]) -> PokerkitHand:
    """The strongest five of `cards`, as pokerkit's `CombinationHand.from_game` picks them."""
    primes = [_PRIME.get(card.rank) for card in cards]
    picks = _COMBINATIONS.get(len(cards))
    if picks is None or None in primes:
        # Fewer than five cards (no hand) or an unknown card: pokerkit's own search decides.
        return super(HighHand, HighHand).from_game(cards)
    suits = [card.suit for card in cards]
    best: Entry | None = None
    best_pick: tuple[int, ...] = ()
    for pick in picks:
        a, b, c, d, e = pick
        key = (
            primes[a] * primes[b] * primes[c] * primes[d] * primes[e],  # type: ignore[operator]
            suits[a] == suits[b] == suits[c] == suits[d] == suits[e],
        )
        try:
            entry = _ENTRIES[key]
        except KeyError:
            entry = _entry_of([cards[i] for i in pick])
        # Strictly stronger only, as pokerkit: of equal hands the first combination stays.
        if entry is not None and (best is None or entry.index > best.index):
            best, best_pick = entry, pick
    if best is None:
        raise ValueError("No valid HighHand hand can be formed from the hole and board cards.")
    return HighHand(tuple(cards[i] for i in best_pick), best)
