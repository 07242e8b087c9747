"""`handle`: validate a command, then build its events one at a time, applying each before the next.

Everything is checked before the first event, so a refused command leaves the table untouched.
After a player's decision the table is driven forward (`_drive`) until it waits for a person or a
clock again: hole cards, streets (a whole board when everyone left is all in), showdown, pots, the
end of the hand, the end of the game. Cards are drawn here, at the moment they are dealt.
`Abandon` ends the game at once, whatever its phase; a completed game refuses every command
(`game_completed`) but `Tick`, which has nothing left to do.
"""

from __future__ import annotations

from typing import Any

from rejoin_server.games.base import (
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    Join,
    Start,
    Tick,
)
from rejoin_server.games.poker import cards as _cards
from rejoin_server.games.poker import events as ev
from rejoin_server.games.poker.actions import action_amount, decide, timeout_decision
from rejoin_server.games.poker.appliers import apply
from rejoin_server.games.poker.hand import blind_seats
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH
from rejoin_server.games.poker.state import TableState


class _Emitter:
    """Numbers, applies and collects the events of one `handle` call."""

    def __init__(self, table: TableState, now_ms: int) -> None:
        self.table = table
        self.now_ms = now_ms
        self.events: list[Event] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        event = Event(seq=self.table.seq + 1, kind=kind, at=self.now_ms, data=data)
        apply(self.table, event)
        self.events.append(event)


def handle(table: TableState, command: Command, now_ms: int) -> list[Event]:
    emit = _Emitter(table, now_ms)
    match command:
        case Join():
            _join(table, command, emit)
        case Start():
            _start(table, command, emit)
        case Act():
            _act(table, command, emit)
        case Tick():
            _tick(table, command, emit)
        case Abandon():
            _abandon(table, command, emit)
    return emit.events


def _not_completed(table: TableState) -> None:
    if table.status == "completed":
        raise GameRuleError("game_completed", "This game is over; create or join another game.")


def _join(table: TableState, command: Join, emit: _Emitter) -> None:
    _not_completed(table)
    if not isinstance(command.player_id, str) or not command.player_id:
        raise GameRuleError("invalid_request", "A player id is required to join.")
    if table.seat_of(command.player_id) is not None:
        raise GameRuleError(
            "invalid_request",
            f"You already sit at seat {table.seat_of(command.player_id)} (numbered from 0); "
            "reconnect instead.",
        )
    name = command.name.strip() if isinstance(command.name, str) else ""
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise GameRuleError(
            "invalid_request", f"Choose a name of 1 to {MAX_NAME_LENGTH} characters."
        )
    seat = command.seat
    if seat is None:
        free = [s for s in range(table.settings.seats) if s not in table.seats]
        if not free:
            raise GameRuleError("table_full", "Every seat is taken; join another game.")
        seat = free[0]
    elif (
        isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < table.settings.seats
    ):
        raise GameRuleError(
            "invalid_request",
            f"Seat must be a number from 0 to {table.settings.seats - 1}, or left out.",
        )
    elif seat in table.seats:
        raise GameRuleError(
            "seat_taken",
            f"Seat {seat} (numbered from 0) is taken; pick a free seat or leave it out.",
        )
    emit(
        ev.PLAYER_JOINED,
        ev.player_joined(seat, command.player_id, name, table.settings.starting_stack),
    )


def _seated(table: TableState, player_id: str) -> int:
    # A game that is over is over for everyone, seated or not.
    _not_completed(table)
    seat = table.seat_of(player_id)
    if seat is None:
        raise GameRuleError("player_not_in_game", "You have no seat in this game; join it first.")
    return seat


def _start(table: TableState, command: Start, emit: _Emitter) -> None:
    _seated(table, command.player_id)
    if table.hand_running:
        raise GameRuleError(
            "hand_in_progress", f"Hand {table.hand_number} is still being played; wait for its end."
        )
    with_chips = len(table.seats_with_chips())
    if with_chips < 2:
        raise GameRuleError(
            "invalid_action",
            f"A hand needs at least 2 players with chips and {with_chips} "
            f"{'has' if with_chips == 1 else 'have'} any; wait for another player to join.",
        )
    _start_hand(table, emit)


def _act(table: TableState, command: Act, emit: _Emitter) -> None:
    seat = _seated(table, command.player_id)
    hand = table.hand
    if hand is None:
        raise GameRuleError("no_hand_in_progress", "No hand is being played; start one first.")
    actor = hand.actor_seat
    if seat != actor:
        raise GameRuleError(
            "not_your_turn",
            f"It is seat {actor}'s turn, not yours (seat {seat}; seats are numbered from 0); "
            "wait for your turn.",
        )
    decision = decide(hand, command.type, action_amount(command))
    emit(ev.ACTION, ev.action(seat, decision.type, decision.amount))
    _drive(table, emit)


def _tick(table: TableState, command: Tick, emit: _Emitter) -> None:
    # One due thing per tick: with zero delays a loop here could play hands forever.
    if table.status == "completed":
        return
    hand = table.hand
    if hand is not None:
        deadline, seat = table.action_deadline, hand.actor_seat
        if deadline is not None and seat is not None and emit.now_ms >= deadline:
            emit(ev.TIMEOUT, ev.timeout(seat, timeout_decision(hand).type))
            _drive(table, emit)
        return
    due = table.next_deadline()
    # Nobody at the table: the hand that ran has ended by its clocks; the next waits for a player.
    if (
        command.attended
        and table.settings.auto_next_hand
        and due is not None
        and emit.now_ms >= due
    ):
        _start_hand(table, emit)


def _abandon(table: TableState, command: Abandon, emit: _Emitter) -> None:
    _not_completed(table)
    reason = command.reason
    if not isinstance(reason, str) or not 0 < len(reason) <= ev.MAX_REASON_LENGTH:
        raise GameRuleError(
            "invalid_request",
            f"An abandon reason must have 1 to {ev.MAX_REASON_LENGTH} characters.",
        )
    # The hand in progress, if any, stays as it is: no one wins it, no chip moves.
    emit(ev.GAME_COMPLETED, ev.game_abandoned(reason))


def _start_hand(table: TableState, emit: _Emitter) -> None:
    button = table.next_button()
    order = table.deal_order(button)
    sb, bb = blind_seats(order)
    emit(ev.HAND_STARTED, ev.hand_started(table.hand_number + 1, button, order, sb, bb))
    assert table.hand is not None
    for seat, blind, amount in table.hand.blinds():
        emit(ev.BLIND_POSTED, ev.blind_posted(seat, blind, amount))
    _drive(table, emit)


def _drive(table: TableState, emit: _Emitter) -> None:
    """Deal, show, pay and close until a player (or a clock) must act next."""
    while (hand := table.hand) is not None:
        seat = hand.next_hole_seat()
        if seat is not None:
            player_id = table.seats[seat].player_id
            emit(
                ev.HOLE_CARDS,
                ev.hole_cards(seat, player_id, _cards.draw(2, hand.dealt_cards())),
            )
            continue
        due = hand.board_due()
        if due:
            cards = _cards.draw(due, hand.dealt_cards())
            emit(ev.STREET, ev.street(cards, len(hand.board) + due))
            continue
        if not hand.is_over:
            # Everything else pokerkit waits for is automated, so this is a player's turn.
            assert hand.actor_seat is not None, "the hand waits for nobody"
            return
        shows = hand.shows()
        if shows:
            emit(
                ev.SHOWDOWN,
                ev.showdown([(seat, cards, hand.describe(seat)) for seat, cards in shows]),
            )
        for award in hand.awards():
            emit(ev.POT_AWARDED, ev.pot_awarded(award.amount, award.seats, award.winners))
        emit(ev.HAND_ENDED, ev.hand_ended(table.hand_number, table.stacks_after_hand()))
    # The hand has ended (`hand_ended` dropped it): one player with every chip ends the game.
    winners = table.seats_with_chips()
    if table.hand_over and table.status != "completed" and len(winners) == 1:
        winner = winners[0]
        emit(ev.GAME_COMPLETED, ev.game_completed(winner, table.seats[winner].player_id))
