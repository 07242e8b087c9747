"""One hand of No-Limit Hold'em on a pokerkit `State`, addressed by seat numbers, and its replay log.

pokerkit owns the rules: blinds, turn order, legal amounts and min-raise, side pots, showdown order,
hand ranking and payouts. This class only maps table seats to pokerkit player indices and back,
feeds it cards chosen elsewhere (`cards.draw`), and keeps a compact log (`log_json`) from which
`replay` rebuilds the identical pokerkit state.

pokerkit is imported inside the functions that use it, never when this module loads: its import
takes most of a restart's CPU, and `warmup` loads it in the background instead (a call that comes
first waits for it there).

Seat order: `seats` lists the dealt-in seats from the button's left round to the button, which is
pokerkit's player order for every table size (heads-up, pokerkit makes the last player, the button,
post the small blind and act first before the flop).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rejoin_server.games.base import JsonDict
from rejoin_server.games.poker import cards as _cards
from rejoin_server.games.poker.asked import Asked

if TYPE_CHECKING:
    from pokerkit import State

    from rejoin_server.games.poker.ranking import HoldemGame

_BURN = "??"
_LOG_TOKENS = re.compile(r"f|c|r[0-9]+")
_LOG = re.compile(r"(?:f|c|r[0-9]+)*")


@lru_cache(maxsize=64)
def _game(small_blind: int, big_blind: int) -> HoldemGame:
    """pokerkit's definition of the game for these blinds: immutable, so made once and shared by
    every hand (`game(stacks, players)` then makes a fresh state). Its hands rank as
    `ranking.HighHand`: pokerkit's ranking, without its cost per showdown."""
    from pokerkit import Automation, Mode

    from rejoin_server.games.poker.ranking import HoldemGame

    # Everything but dealing and the players' decisions. Card burning stays manual so that a burn
    # is an unknown card ("??") instead of one pokerkit picks from its own shuffled deck.
    automations = (
        Automation.ANTE_POSTING,
        Automation.BET_COLLECTION,
        Automation.BLIND_OR_STRADDLE_POSTING,
        Automation.RUNOUT_COUNT_SELECTION,
        Automation.HOLE_CARDS_SHOWING_OR_MUCKING,
        Automation.HAND_KILLING,
        Automation.CHIPS_PUSHING,
        Automation.CHIPS_PULLING,
    )
    return HoldemGame(
        automations,
        True,
        0,
        (small_blind, big_blind),
        big_blind,
        # Tournament rules: one run-out, and hands all in are turned face up before it.
        mode=Mode.TOURNAMENT,
    )


FOLD = "f"
CHECK_OR_CALL = "c"
BET_OR_RAISE = "r"
_DECISIONS = {FOLD: "fold", CHECK_OR_CALL: "check or call"}


def blind_seats(seats: Sequence[int]) -> tuple[int, int]:
    """(small blind, big blind) seats for `seats` in pokerkit order; heads-up the button is small."""
    return (seats[-1], seats[0]) if len(seats) == 2 else (seats[0], seats[1])


@dataclass(frozen=True, slots=True)
class Award:
    """One pot as pokerkit pushed it: its amount, the seats still eligible, who got what."""

    amount: int
    seats: list[int]
    winners: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class EndedHand:
    """A hand after `hand_ended`, as plain data: what the table still shows until the next hand
    starts (dealt seats, hole cards, board, folds). No pokerkit state: nothing is left to play."""

    seats: tuple[int, ...]
    hole: dict[int, tuple[str, str]]
    board: tuple[str, ...]
    folded: frozenset[int]


class Hand:
    def __init__(
        self, seats: Sequence[int], stacks: Sequence[int], small_blind: int, big_blind: int
    ) -> None:
        if len(seats) < 2 or len(set(seats)) != len(seats) or len(stacks) != len(seats):
            raise ValueError(f"a hand needs >= 2 distinct seats with one stack each, not {seats}")
        if min(stacks) <= 0:
            raise ValueError(f"every dealt-in seat needs chips, not stacks {list(stacks)}")
        self.seats: tuple[int, ...] = tuple(seats)
        self.starting_stacks: tuple[int, ...] = tuple(stacks)
        self._index = {seat: i for i, seat in enumerate(self.seats)}
        self._state: State = _game(small_blind, big_blind)(self.starting_stacks, len(self.seats))
        self._asked = Asked(self._state)
        self.hole: dict[int, tuple[str, str]] = {}
        self.board: list[str] = []
        self.folded: set[int] = set()
        self._log: list[str] = []

    # Seats and blinds.

    @property
    def small_blind_seat(self) -> int:
        return blind_seats(self.seats)[0]

    @property
    def big_blind_seat(self) -> int:
        return blind_seats(self.seats)[1]

    def blinds(self) -> list[tuple[int, str, int]]:
        """(seat, "small"|"big", amount) as pokerkit posted them; a short stack posts what it has."""
        from pokerkit import BlindOrStraddlePosting

        posted = {
            op.player_index: op.amount
            for op in self._state.operations
            if isinstance(op, BlindOrStraddlePosting)
        }
        out = []
        for seat, blind in ((self.small_blind_seat, "small"), (self.big_blind_seat, "big")):
            amount = posted.get(self._index[seat], 0)
            if amount:
                out.append((seat, blind, amount))
        return out

    # Dealing.

    def dealt_cards(self) -> set[str]:
        out = set(self.board)
        for pair in self.hole.values():
            out.update(pair)
        return out

    def next_hole_seat(self) -> int | None:
        index = self._asked.hole_dealee_index
        return None if index is None else self.seats[index]

    def deal_hole(self, seat: int, cards: Sequence[str]) -> None:
        expected = self.next_hole_seat()
        if seat != expected:
            raise ValueError(f"seat {seat} is not the next to be dealt (that is {expected})")
        self._deal_hole(seat, cards)

    def _deal_hole(self, seat: int, cards: Sequence[str]) -> None:
        """`deal_hole` to `seat`, known to be `next_hole_seat()`."""
        self._check_fresh(cards, 2)
        try:
            self._state.deal_hole("".join(cards), self._index[seat])
        finally:
            self._changed()
        self.hole[seat] = (cards[0], cards[1])

    def board_due(self) -> int:
        """How many board cards pokerkit waits for now (3, 1 or 0)."""
        return self._asked.board_due

    def deal_board(self, cards: Sequence[str]) -> None:
        due = self.board_due()
        if not due:
            raise ValueError("no board cards are due")
        self._check_fresh(cards, due)
        try:
            self._state.burn_card(_BURN)
            self._state.deal_board("".join(cards))
        finally:
            self._changed()
        self.board.extend(cards)

    def _check_fresh(self, cards: Sequence[str], count: int) -> None:
        _cards.check(cards)
        if len(cards) != count:
            raise ValueError(f"{count} cards are due, not {len(cards)}")
        reused = self.dealt_cards().intersection(cards)
        if reused:
            raise ValueError(f"cards {sorted(reused)} are already dealt in this hand")

    def _changed(self) -> None:
        """pokerkit's state may have changed: forget its answers about the state before."""
        self._asked = Asked(self._state)

    # Betting.

    @property
    def actor_seat(self) -> int | None:
        index = self._asked.actor_index
        return None if index is None else self.seats[index]

    def to_call(self) -> int:
        return self._asked.to_call

    def can_fold(self) -> bool:
        return self._asked.can_fold

    def facing_bet(self) -> bool:
        return max(self._state.bets) > 0

    def raise_range(self) -> tuple[int, int] | None:
        """(min, max) "total bet to" for a bet or raise, or None when the actor cannot raise."""
        return self._asked.raise_range

    def allin_to(self) -> int | None:
        """The actor's total bet when all in, if pokerkit lets their whole stack go in now."""
        seat = self.actor_seat
        if seat is None:
            return None
        stack, total = self.stack_of(seat), self.stack_of(seat) + self.bet_of(seat)
        if self.to_call() >= stack:
            return total
        span = self.raise_range()
        return total if span is not None and span[1] == total else None

    def act(self, code: str, amount: int | None = None) -> None:
        """Apply the actor's decision: FOLD, CHECK_OR_CALL or BET_OR_RAISE to `amount`."""
        seat = self.actor_seat
        if seat is None:
            raise ValueError("nobody is to act")
        if code == BET_OR_RAISE and amount is not None:
            what, token = f"bet or raise to {amount}", f"{BET_OR_RAISE}{amount}"
        elif code in _DECISIONS:
            what, token = _DECISIONS[code], code
        else:
            raise ValueError(f"unknown decision {code!r} (amount {amount!r})")
        state = self._state
        # pokerkit verifies each operation before it changes anything and raises ValueError if it
        # is not allowed, so no separate `can_…` check is needed first.
        try:
            if code == FOLD:
                state.fold()
            elif code == CHECK_OR_CALL:
                state.check_or_call()
            else:
                state.complete_bet_or_raise_to(amount)
        except ValueError as exc:
            raise ValueError(f"seat {seat} cannot {what} now: {exc}") from None
        finally:
            self._changed()
        if code == FOLD:
            self.folded.add(seat)
        self._log.append(token)

    # Chips.

    def stack_of(self, seat: int) -> int:
        return int(self._state.stacks[self._index[seat]])

    def bet_of(self, seat: int) -> int:
        return int(self._state.bets[self._index[seat]])

    def stacks(self) -> dict[int, int]:
        return {seat: self.stack_of(seat) for seat in self.seats}

    def pots(self) -> list[tuple[int, list[int]]]:
        """The collected pots (amount, eligible seats) while the hand runs; [] once paid out."""
        if self.is_over:
            return []
        return [
            (amount, sorted(self.seats[i] for i in indices)) for amount, indices in self._asked.pots
        ]

    def total_chips(self) -> int:
        state = self._state
        return int(sum(state.stacks) + sum(state.bets)) + sum(amount for amount, _ in self.pots())

    # The end.

    @property
    def is_over(self) -> bool:
        return not self._state.status

    def shows(self) -> list[tuple[int, tuple[str, str]]]:
        """The hands pokerkit turned face up, in showdown order; losers who could muck did."""
        from pokerkit import HoleCardsShowingOrMucking

        return [
            (self.seats[op.player_index], self.hole[self.seats[op.player_index]])
            for op in self._state.operations
            if isinstance(op, HoleCardsShowingOrMucking) and op.hole_cards
        ]

    def describe(self, seat: int) -> str:
        """The best five-card hand's name, e.g. "Two pair"; "" before there are five cards."""
        if len(self.board) < 3:
            return ""
        from rejoin_server.games.poker.ranking import HighHand

        hand = HighHand.from_game("".join(self.hole[seat]), "".join(self.board))
        return str(hand.entry.label.value)

    def awards(self) -> list[Award]:
        """Pots as pokerkit pushed them. pokerkit merges adjacent pots left with the same players
        after losing hands are killed, so a player who wins every pot gets one award."""
        from pokerkit import ChipsPushing

        pots = list(self._state.pots)
        out = []
        for op in self._state.operations:
            if isinstance(op, ChipsPushing):
                pot = pots[op.pot_index]
                out.append(
                    Award(
                        amount=int(op.total_amount),
                        seats=sorted(self.seats[i] for i in pot.player_indices),
                        winners=[
                            (self.seats[i], int(won)) for i, won in enumerate(op.amounts) if won
                        ],
                    )
                )
        return out

    def ended(self) -> EndedHand:
        """What stays of this (finished) hand once it has ended."""
        return EndedHand(self.seats, dict(self.hole), tuple(self.board), frozenset(self.folded))

    # Replay log.

    def log_json(self) -> JsonDict:
        """The hand as compact data: seats, hole cards in dealing order, board, decisions."""
        out: JsonDict = {
            "s": list(self.seats),
            "c": "".join("".join(self.hole[seat]) for seat in self.seats if seat in self.hole),
        }
        if self.board:
            out["b"] = "".join(self.board)
        if self._log:
            out["a"] = "".join(self._log)
        return out

    @classmethod
    def replay(
        cls,
        seats: Sequence[int],
        stacks: Sequence[int],
        small_blind: int,
        big_blind: int,
        *,
        hole: str,
        board: str,
        decisions: str,
    ) -> Hand:
        """The hand `log_json` described, rebuilt by feeding pokerkit the same cards and decisions."""
        hand = cls(seats, stacks, small_blind, big_blind)
        hole_cards = _cards.split(hole)
        for i in range(0, len(hole_cards), 2):
            seat = hand.next_hole_seat()
            if seat is None:
                raise ValueError("the log deals more hole cards than the hand has seats")
            hand._deal_hole(seat, hole_cards[i : i + 2])
        board_cards = _cards.split(board)
        if not _LOG.fullmatch(decisions):
            raise ValueError(f"unreadable decisions {decisions!r}")
        for token in [*_LOG_TOKENS.findall(decisions), None]:
            while (
                len(hand.board) < len(board_cards)
                # Board cards are only ever due between betting rounds, when nobody is to act.
                and hand.actor_seat is None
                and (due := hand.board_due())
                and len(hand.board) + due <= len(board_cards)
            ):
                hand.deal_board(board_cards[len(hand.board) : len(hand.board) + due])
            if token is not None:
                hand.act(token[0], int(token[1:]) if token[0] == BET_OR_RAISE else None)
        if len(hand.board) != len(board_cards):
            raise ValueError("the log holds board cards the hand never dealt")
        return hand
