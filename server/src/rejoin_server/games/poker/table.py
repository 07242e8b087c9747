"""`PokerTable`, the `GameState` of one No-Limit Hold'em table, and `apply`, the only code that
changes it.

The table owns what outlives a hand (seats, stacks, button, hand number, status) and the clocks; the
running `Hand` owns the chips in play. Table stacks change only at `hand_ended`, so during a hand
they are the hand's starting stacks. At `hand_ended` the hand's pokerkit state is dropped: what the
table still shows until the next hand (board, hole cards, folds) stays as a plain `EndedHand`.
A game abandoned mid-hand (`game_completed` with a `reason`) keeps its `Hand` as it was, frozen:
the view still shows it, but no clock runs and no command can change it any more.
Every value here is derived from events and their `at`, never from the wall clock, which is what
makes replay and `load(dump())` exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rejoin_server.games.base import Command, Event, GameRuleError, GameStatus, JsonDict
from rejoin_server.games.poker import actions as _actions
from rejoin_server.games.poker import events as ev
from rejoin_server.games.poker.commands import handle
from rejoin_server.games.poker.hand import EndedHand, Hand, blind_seats
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH, PokerSettings
from rejoin_server.games.poker.snapshot import dump_table
from rejoin_server.games.poker.view import build_view, redact


@dataclass(slots=True)
class Seat:
    player_id: str
    name: str
    stack: int


class PokerTable:
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

    # GameState.

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return self._status

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return handle(self, command, now_ms)

    def apply(self, event: Event) -> None:
        if event.seq != self._seq + 1:
            raise ValueError(f"event seq {event.seq} cannot follow seq {self._seq}")
        applier = _APPLIERS.get(event.kind)
        if applier is None:
            raise ValueError(f"event {event.seq} has unknown kind {event.kind!r}")
        try:
            applier(self, event.data, event.at)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, GameRuleError) as exc:
            raise ValueError(f"event {event.seq} ({event.kind}) cannot be applied: {exc}") from exc
        self._seq = event.seq

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

    def view(self, player_id: str | None) -> JsonDict:
        return build_view(self, player_id)

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return redact(self, event, player_id)

    def dump(self) -> JsonDict:
        return dump_table(self)

    # Restoring (snapshot.restore_table) and joining.

    def set_position(self, seq: int, status: GameStatus) -> None:
        self._seq, self._status = seq, status

    def sit(self, number: int, player_id: str, name: str, stack: int) -> None:
        self.seats[number] = Seat(player_id, name, stack)

    # Queries.

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

    # Appliers: one per kind; each checks the event against the state before changing anything.

    def _player_joined(self, data: Mapping[str, Any], at: int) -> None:
        number = ev.read_int(data, "seat")
        player_id = ev.read_str(data, "playerId")
        name = ev.read_str(data, "name")
        stack = ev.read_int(data, "stack")
        if self._status == "completed":
            raise ValueError("the game is completed")
        if number >= self.settings.seats or number in self.seats:
            raise ValueError(f"seat {number} is not free")
        if not player_id or self.seat_of(player_id) is not None:
            raise ValueError(f"player {player_id!r} cannot join twice")
        if not 0 < len(name) <= MAX_NAME_LENGTH:
            raise ValueError(f"name must have 1 to {MAX_NAME_LENGTH} characters")
        if stack != self.settings.starting_stack:
            raise ValueError(f"a new player brings {self.settings.starting_stack} chips")
        self.sit(number, player_id, name, stack)

    def _hand_started(self, data: Mapping[str, Any], at: int) -> None:
        number = ev.read_int(data, "handNumber", 1)
        button = ev.read_int(data, "button")
        order = ev.read_ints(data, "seats")
        sb, bb = ev.read_int(data, "sb"), ev.read_int(data, "bb")
        if self._status == "completed" or self.hand_running:
            raise ValueError("a hand cannot start now")
        if number != self.hand_number + 1:
            raise ValueError(f"hand {number} cannot follow hand {self.hand_number}")
        if button != self.next_button() or order != self.deal_order(button) or len(order) < 2:
            raise ValueError(f"button {button} and seats {order} are not this table's next deal")
        if (sb, bb) != blind_seats(order):
            raise ValueError(f"blinds must be seats {blind_seats(order)}")
        hand = Hand(
            order,
            [self.seats[s].stack for s in order],
            self.settings.small_blind,
            self.settings.big_blind,
        )
        self.hand, self.hand_number, self.button = hand, number, button
        self._status = "playing"
        self.last_hand = None
        self.shown = []
        self.action_deadline = self.next_hand_at = None

    def _blind_posted(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._running_hand()
        posted = (
            ev.read_int(data, "seat"),
            ev.read_str(data, "blind", ("small", "big")),
            ev.read_int(data, "amount", 1),
        )
        if posted not in hand.blinds():
            raise ValueError(f"pokerkit posted {hand.blinds()}, not {posted}")

    def _hole_cards(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._running_hand()
        seat = ev.read_int(data, "seat")
        player_id = ev.read_str(data, "playerId")
        if seat not in self.seats or self.seats[seat].player_id != player_id:
            raise ValueError(f"hole cards for {player_id!r} at seat {seat}, who does not sit there")
        hand.deal_hole(seat, ev.read_cards(data, "cards", 2))
        self._start_clock(hand, at)

    def _action(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._running_hand()
        seat = ev.read_int(data, "seat")
        type_ = ev.read_str(data, "type", ev.ACTION_TYPES)
        amount = ev.read_int(data, "amount")
        if seat != hand.actor_seat:
            raise ValueError(f"seat {seat} acted but seat {hand.actor_seat} was to act")
        decision = _actions.decide(hand, type_, amount if type_ in ("bet", "raise") else None)
        if amount != decision.amount:
            raise ValueError(f"a {type_} here is for {decision.amount}, not {amount}")
        hand.act(decision.code, decision.raise_to)
        self._start_clock(hand, at)

    def _timeout(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._running_hand()
        seat = ev.read_int(data, "seat")
        action = ev.read_str(data, "action", ("check", "fold"))
        decision = _actions.timeout_decision(hand)
        if seat != hand.actor_seat or action != decision.type:
            raise ValueError(f"the clock {decision.type}s for seat {hand.actor_seat}")
        if self.action_deadline is None or at < self.action_deadline:
            raise ValueError(f"the clock runs out at {self.action_deadline}, not {at}")
        hand.act(decision.code)
        self._start_clock(hand, at)

    def _street(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._running_hand()
        cards = ev.read_cards(data, "cards")
        name = ev.STREET_NAMES.get(len(hand.board) + len(cards))
        if ev.read_str(data, "street") != name:
            raise ValueError(f"{len(cards)} cards on a {len(hand.board)}-card board is no street")
        hand.deal_board(cards)
        self._start_clock(hand, at)

    def _showdown(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._finished_hand()
        hands = ev.read_list(data, "hands")
        expected = [
            {"seat": seat, "cards": list(cards), "hand": hand.describe(seat)}
            for seat, cards in hand.shows()
        ]
        if not expected or [dict(h) for h in hands] != expected:
            raise ValueError(f"pokerkit's showdown was {expected}")
        self.shown = [seat for seat, _ in hand.shows()]

    def _pot_awarded(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._finished_hand()
        awards = [ev.pot_awarded(a.amount, a.seats, a.winners) for a in hand.awards()]
        if dict(data) not in awards:
            raise ValueError(f"pokerkit awarded {awards}")

    def _hand_ended(self, data: Mapping[str, Any], at: int) -> None:
        hand = self._finished_hand()
        if ev.read_int(data, "handNumber") != self.hand_number:
            raise ValueError(f"hand {self.hand_number} is the one running")
        stacks = self.stacks_after_hand()
        if ev.read_stacks(data, "stacks") != stacks:
            raise ValueError(f"the stacks after hand {self.hand_number} are {stacks}")
        for number, stack in stacks.items():
            self.seats[number].stack = stack
        self.hand, self.last_hand = None, hand.ended()
        self.action_deadline = None
        self.next_hand_at = at + self.settings.next_hand_delay_ms

    def _game_completed(self, data: Mapping[str, Any], at: int) -> None:
        if "reason" in data:
            self._game_abandoned(data)
            return
        # The winner form, the only one in logs written before games could be abandoned.
        seat = ev.read_int(data, "seat")
        player_id = ev.read_str(data, "playerId")
        if self._status == "completed" or self.hand_running:
            raise ValueError("the game cannot complete now")
        if self.seats_with_chips() != [seat] or self.seats[seat].player_id != player_id:
            raise ValueError(f"{player_id!r} at seat {seat} does not hold every chip")
        self._status = "completed"
        self.next_hand_at = None

    def _game_abandoned(self, data: Mapping[str, Any]) -> None:
        """No winner: allowed in any phase, also mid-hand. The hand (or the ended one) stays on the
        table as it is and no chip moves; only the clocks stop."""
        reason = ev.read_str(data, "reason")
        if not 0 < len(reason) <= ev.MAX_REASON_LENGTH:
            raise ValueError(f"a reason has 1 to {ev.MAX_REASON_LENGTH} characters")
        if "seat" in data or "playerId" in data:
            raise ValueError("a game completed for a reason has no winner")
        if self._status == "completed":
            raise ValueError("the game is already completed")
        self._status = "completed"
        self.action_deadline = self.next_hand_at = None

    def _snapshot_restored(self, data: Mapping[str, Any], at: int) -> None:
        """The host restored this state before logging the rollback: only the seq moves on."""

    # Helpers for appliers.

    def _running_hand(self) -> Hand:
        if self.hand is None:
            raise ValueError("no hand is running")
        return self.hand

    def _finished_hand(self) -> Hand:
        hand = self._running_hand()
        if not hand.is_over:
            raise ValueError("the hand is still being played")
        return hand

    def _start_clock(self, hand: Hand, at: int) -> None:
        # The event that hands someone the turn starts their clock, so replay gives the same deadline.
        seat = hand.actor_seat
        self.action_deadline = None if seat is None else at + self.settings.action_timeout_ms


_Applier = Callable[[PokerTable, Mapping[str, Any], int], None]
_APPLIERS: dict[str, _Applier] = {
    ev.PLAYER_JOINED: PokerTable._player_joined,
    ev.HAND_STARTED: PokerTable._hand_started,
    ev.BLIND_POSTED: PokerTable._blind_posted,
    ev.HOLE_CARDS: PokerTable._hole_cards,
    ev.ACTION: PokerTable._action,
    ev.TIMEOUT: PokerTable._timeout,
    ev.STREET: PokerTable._street,
    ev.SHOWDOWN: PokerTable._showdown,
    ev.POT_AWARDED: PokerTable._pot_awarded,
    ev.HAND_ENDED: PokerTable._hand_ended,
    ev.GAME_COMPLETED: PokerTable._game_completed,
    ev.SNAPSHOT_RESTORED: PokerTable._snapshot_restored,
}
