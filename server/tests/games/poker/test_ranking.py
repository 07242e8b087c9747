"""`ranking.HighHand` ranks exactly as pokerkit's `StandardHighHand` (the same five cards, entry
and name, the same order between hands), and `prepare` notes every kind of hand in pokerkit's
table."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from pokerkit import StandardHighHand

from rejoin_server.games.poker import cards as poker_cards
from rejoin_server.games.poker.ranking import HighHand


@pytest.mark.parametrize("count", [5, 6, 7])
def test_high_hands_are_pokerkits_hands(count: int) -> None:
    rng = random.Random(count)
    ours, theirs = [], []
    for _ in range(3_000):
        cards = rng.sample(poker_cards.DECK, count)
        hole, board = "".join(cards[:2]), "".join(cards[2:])
        mine, pokerkits = HighHand.from_game(hole, board), StandardHighHand.from_game(hole, board)
        assert (mine.cards, mine.entry, str(mine)) == (
            pokerkits.cards,
            pokerkits.entry,
            str(pokerkits),
        )
        ours.append(mine)
        theirs.append(pokerkits)
    for i in range(len(ours) - 1):
        a, b, x, y = ours[i], ours[i + 1], theirs[i], theirs[i + 1]
        assert (a < b, a == b, a > b) == (x < y, x == y, x > y)


def test_equal_hands_tie_as_in_pokerkit() -> None:
    # A straight on the board that both players play: a split, as pokerkit has it.
    a, b = HighHand.from_game("2c3d", "9sTsJhQdKc"), HighHand.from_game("4h5h", "9sTsJhQdKc")
    assert a == b
    assert str(a) == str(StandardHighHand.from_game("2c3d", "9sTsJhQdKc"))


@pytest.mark.parametrize(("hole", "board"), [("As", ""), ("AsKs", "Qs"), ("", "AsKsQs")])
def test_fewer_than_five_cards_are_no_hand(hole: str, board: str) -> None:
    with pytest.raises(ValueError, match="No valid"):
        HighHand.from_game(hole, board)
    with pytest.raises(ValueError, match="No valid"):
        StandardHighHand.from_game(hole, board)


PREPARE = """
import json
from pokerkit import StandardHighHand
from rejoin_server.games.poker import ranking
ranking.prepare()
entries = ranking._ENTRIES
print(json.dumps({
    "kinds": len(entries),
    "none": sum(e is None for e in entries.values()),
    "ranks": len({e.index for e in entries.values() if e is not None}),
    "labels": sorted({e.label.value for e in entries.values() if e is not None}),
}))
"""


def test_prepare_notes_every_kind_of_hand_of_pokerkits_table() -> None:
    # In a fresh interpreter: here other tests have noted hands already.
    done = subprocess.run(
        [sys.executable, "-c", PREPARE], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    # 7,462 distinct hand ranks in standard poker, each a kind of five cards of its own.
    assert seen["kinds"] == seen["ranks"] == 7462
    assert seen["none"] == 0
    assert len(seen["labels"]) == 9
