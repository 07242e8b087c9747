"""`TableState`: what one poker table holds (seats, stacks, button, hand number, status, clocks,
the hand on the table) and the questions asked of it, without the code that changes it.

It sits below everything that reads or changes a table: `appliers` (the only code that changes it
as events come), `commands` (which decides the events), `view`, `snapshot`, and `table`, which puts
them together behind the `GameState` seam. Those take a `TableState`, so no module imports the one
that imports it.

The table owns what outlives a hand; the running `Hand` owns the chips in play. Table stacks change
only at `hand_ended`, so during a hand they are the hand's starting stacks. At `hand_ended` the
hand's pokerkit state is dropped: what the table still shows until the next hand (board, hole
cards, folds) stays as a plain `EndedHand`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rejoin_server.games.base import GameStatus
from rejoin_server.games.poker.hand import EndedHand, Hand
from rejoin_server.games.poker.settings import PokerSettings


@dataclass(slots=True)
class Seat:
    player_id: str
    name: str
    stack: int


class TableState:
    def __init__(self, game_id: str, settings: PokerSettings) -> None:
        self._game_id = game_id
        self.settings = settings
        self._seq = 0
        self._status: GameStatus = "waiting"
        self.seats: dict[int, Seat] = {}
        self.button: int | None = None
        self.hand_number = 0
        # The hand being played; None between hands.
        self.hand: Hand | None = None
        # The hand that ended: it stays visible (board, shown cards) until the next one starts.
        self.last_hand: EndedHand | None = None
        self.shown: list[int] = []
        self.action_deadline: int | None = None
        self.next_hand_at: int | None = None

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return self._status

    # Changing the position: `appliers` after each event, `snapshot.restore_table` once.

    def set_position(self, seq: int, status: GameStatus) -> None:
        self._seq, self._status = seq, status

    def set_status(self, status: GameStatus) -> None:
        self._status = status

    def sit(self, number: int, player_id: str, name: str, stack: int) -> None:
        self.seats[number] = Seat(player_id, name, stack)

    # Queries.

    def next_deadline(self) -> int | None:
        if self._status == "completed":
            return None
        if self.hand_running:
            return self.action_deadline
        if self.settings.auto_next_hand and len(self.seats_with_chips()) >= 2:
            return self.next_hand_at
        return None

    def seat_of(self, player_id: str) -> int | None:
        for number, seat in self.seats.items():
            if seat.player_id == player_id:
                return number
        return None

    @property
    def hand_running(self) -> bool:
        return self.hand is not None

    @property
    def hand_over(self) -> bool:
        """A hand has ended and the next has not started (its board and shown cards still show)."""
        return self.hand is None and self.last_hand is not None

    def seats_with_chips(self) -> list[int]:
        return sorted(number for number, seat in self.seats.items() if seat.stack > 0)

    def next_button(self) -> int:
        """The next seat with chips after the last button (the lowest such seat for hand 1)."""
        with_chips = self.seats_with_chips()
        if not with_chips:
            raise ValueError("no seat has chips")
        if self.button is None:
            return with_chips[0]
        after = [seat for seat in with_chips if seat > self.button]
        return after[0] if after else with_chips[0]

    def deal_order(self, button: int) -> list[int]:
        """Seats with chips from the button's left round to the button: pokerkit's player order."""
        with_chips = self.seats_with_chips()
        return [s for s in with_chips if s > button] + [s for s in with_chips if s <= button]

    def stacks_after_hand(self) -> dict[int, int]:
        assert self.hand is not None
        stacks = {number: seat.stack for number, seat in self.seats.items()}
        stacks.update(self.hand.stacks())
        return stacks

    def total_chips(self) -> int:
        """Every chip at the table: stacks of seats out of the hand, plus the hand's stacks, bets
        and pots. Constant, for tests."""
        hand = self.hand
        out = hand.total_chips() if hand is not None else 0
        dealt = set(hand.seats) if hand is not None else set()
        return out + sum(seat.stack for number, seat in self.seats.items() if number not in dealt)
