"""`ranking.HighHand` ranks exactly as pokerkit's `StandardHighHand` (the same five cards, entry
and name, the same order between hands), `prepare` notes every kind of hand in pokerkit's table,
and a `Hand` answers the betting questions as pokerkit does, however often they are asked."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from pokerkit import Automation, Mode, NoLimitTexasHoldem, StandardHighHand, State

from rejoin_server.games.poker import cards as poker_cards
from rejoin_server.games.poker.hand import BET_OR_RAISE, CHECK_OR_CALL, FOLD, Hand
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


def _pokerkit_state(hand: Hand) -> State:
    """The same hand on a state of pokerkit's own game, played in parallel below."""
    game = NoLimitTexasHoldem(
        (
            Automation.ANTE_POSTING,
            Automation.BET_COLLECTION,
            Automation.BLIND_OR_STRADDLE_POSTING,
            Automation.RUNOUT_COUNT_SELECTION,
            Automation.HOLE_CARDS_SHOWING_OR_MUCKING,
            Automation.HAND_KILLING,
            Automation.CHIPS_PUSHING,
            Automation.CHIPS_PULLING,
        ),
        True,
        0,
        (1, 2),
        2,
        mode=Mode.TOURNAMENT,
    )
    return game(hand.starting_stacks, len(hand.seats))


@pytest.mark.parametrize("seed", range(40))
def test_a_hand_answers_as_pokerkit_after_every_change(seed: int) -> None:
    rng = random.Random(seed)
    seats = sorted(rng.sample(range(9), rng.randint(2, 6)))
    stacks = [rng.choice([3, 20, 50, 400]) for _ in seats]
    hand = Hand(seats, stacks, 1, 2)
    state = _pokerkit_state(hand)
    while not hand.is_over:
        # Asked twice: the second answer must be the same, not left over from before a change.
        for _ in range(2):
            assert hand.to_call() == (state.checking_or_calling_amount or 0)
            assert hand.can_fold() == state.can_fold()
            dealee = state.hole_dealee_index
            assert hand.next_hole_seat() == (None if dealee is None else seats[dealee])
            street = state.street
            due = street.board_dealing_count if street and state.can_burn_card() else 0
            assert hand.board_due() == due
            expected = None
            if state.can_complete_bet_or_raise_to():
                expected = (
                    state.min_completion_betting_or_raising_to_amount,
                    state.max_completion_betting_or_raising_to_amount,
                )
            assert hand.raise_range() == expected
            assert hand.pots() == [
                (pot.amount, sorted(seats[i] for i in pot.player_indices)) for pot in state.pots
            ]
        seat = hand.next_hole_seat()
        if seat is not None:
            cards = poker_cards.draw(2, hand.dealt_cards())
            hand.deal_hole(seat, cards)
            state.deal_hole("".join(cards))
            continue
        if due := hand.board_due():
            cards = poker_cards.draw(due, hand.dealt_cards())
            hand.deal_board(cards)
            state.burn_card("??")
            state.deal_board("".join(cards))
            continue
        options = [CHECK_OR_CALL] + ([FOLD] if hand.can_fold() else [])
        span = hand.raise_range()
        if span is not None:
            options.append(BET_OR_RAISE)
        if span is not None and rng.random() < 0.2:
            with pytest.raises(ValueError, match="cannot bet or raise"):
                hand.act(BET_OR_RAISE, span[0] - 1)  # refused: nothing changes
            continue
        code = rng.choice(options)
        if code == FOLD:
            hand.act(FOLD)
            state.fold()
        elif code == CHECK_OR_CALL:
            hand.act(CHECK_OR_CALL)
            state.check_or_call()
        else:
            assert span is not None
            amount = rng.randint(*span)
            hand.act(BET_OR_RAISE, amount)
            state.complete_bet_or_raise_to(amount)
    assert hand.stacks() == dict(zip(seats, state.stacks, strict=True))
