"""`apply`: fold one event into a `TableState`, the only code that changes a table.

One applier per event kind; each checks the event against the state before changing anything, so a
malformed or impossible event raises ValueError and leaves the table as it was. Every value is
derived from events and their `at`, never from the wall clock, which is what makes replay and
`load(dump())` exact. A game abandoned mid-hand (`game_completed` with a `reason`) keeps its `Hand`
as it was, frozen: the view still shows it, but no clock runs and no command can change it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rejoin_server.games.base import Event, GameRuleError
from rejoin_server.games.poker import actions as _actions
from rejoin_server.games.poker import events as ev
from rejoin_server.games.poker.hand import Hand, blind_seats
from rejoin_server.games.poker.settings import MAX_NAME_LENGTH
from rejoin_server.games.poker.state import TableState


def apply(table: TableState, event: Event) -> None:
    """Fold `event` into `table`; its seq must be `table.seq + 1`, but for a `snapshot_restored`
    (an operator's rollback), which is given the table at its `version` and may be any seq past
    it. ValueError if it cannot be applied (wrong seq, unknown kind, data that does not fit)."""
    if event.kind == ev.SNAPSHOT_RESTORED:
        if event.seq <= table.seq:
            raise ValueError(f"event seq {event.seq} cannot follow seq {table.seq}")
    elif event.seq != table.seq + 1:
        raise ValueError(f"event seq {event.seq} cannot follow seq {table.seq}")
    applier = _APPLIERS.get(event.kind)
    if applier is None:
        raise ValueError(f"event {event.seq} has unknown kind {event.kind!r}")
    try:
        applier(table, event.data, event.at)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GameRuleError) as exc:
        raise ValueError(f"event {event.seq} ({event.kind}) cannot be applied: {exc}") from exc
    table.set_position(event.seq, table.status)


def _player_joined(table: TableState, data: Mapping[str, Any], at: int) -> None:
    number = ev.read_int(data, "seat")
    player_id = ev.read_str(data, "playerId")
    name = ev.read_str(data, "name")
    stack = ev.read_int(data, "stack")
    if table.status == "completed":
        raise ValueError("the game is completed")
    if number >= table.settings.seats or number in table.seats:
        raise ValueError(f"seat {number} is not free")
    if not player_id or table.seat_of(player_id) is not None:
        raise ValueError(f"player {player_id!r} cannot join twice")
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise ValueError(f"name must have 1 to {MAX_NAME_LENGTH} characters")
    if stack != table.settings.starting_stack:
        raise ValueError(f"a new player brings {table.settings.starting_stack} chips")
    table.sit(number, player_id, name, stack)


def _hand_started(table: TableState, data: Mapping[str, Any], at: int) -> None:
    number = ev.read_int(data, "handNumber", 1)
    button = ev.read_int(data, "button")
    order = ev.read_ints(data, "seats")
    sb, bb = ev.read_int(data, "sb"), ev.read_int(data, "bb")
    if table.status == "completed" or table.hand_running:
        raise ValueError("a hand cannot start now")
    if number != table.hand_number + 1:
        raise ValueError(f"hand {number} cannot follow hand {table.hand_number}")
    if button != table.next_button() or order != table.deal_order(button) or len(order) < 2:
        raise ValueError(f"button {button} and seats {order} are not this table's next deal")
    if (sb, bb) != blind_seats(order):
        raise ValueError(f"blinds must be seats {blind_seats(order)}")
    hand = Hand(
        order,
        [table.seats[s].stack for s in order],
        table.settings.small_blind,
        table.settings.big_blind,
    )
    table.hand, table.hand_number, table.button = hand, number, button
    table.set_status("playing")
    table.last_hand = None
    table.shown = []
    table.action_deadline = table.next_hand_at = None


def _blind_posted(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _running_hand(table)
    posted = (
        ev.read_int(data, "seat"),
        ev.read_str(data, "blind", ("small", "big")),
        ev.read_int(data, "amount", 1),
    )
    if posted not in hand.blinds():
        raise ValueError(f"pokerkit posted {hand.blinds()}, not {posted}")


def _hole_cards(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _running_hand(table)
    seat = ev.read_int(data, "seat")
    player_id = ev.read_str(data, "playerId")
    if seat not in table.seats or table.seats[seat].player_id != player_id:
        raise ValueError(f"hole cards for {player_id!r} at seat {seat}, who does not sit there")
    hand.deal_hole(seat, ev.read_cards(data, "cards", 2))
    _start_clock(table, hand, at)


def _action(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _running_hand(table)
    seat = ev.read_int(data, "seat")
    type_ = ev.read_str(data, "type", ev.ACTION_TYPES)
    amount = ev.read_int(data, "amount")
    if seat != hand.actor_seat:
        raise ValueError(f"seat {seat} acted but seat {hand.actor_seat} was to act")
    decision = _actions.decide(hand, type_, amount if type_ in ("bet", "raise") else None)
    if amount != decision.amount:
        raise ValueError(f"a {type_} here is for {decision.amount}, not {amount}")
    hand.act(decision.code, decision.raise_to)
    _start_clock(table, hand, at)


def _timeout(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _running_hand(table)
    seat = ev.read_int(data, "seat")
    action = ev.read_str(data, "action", ("check", "fold"))
    decision = _actions.timeout_decision(hand)
    if seat != hand.actor_seat or action != decision.type:
        raise ValueError(f"the clock {decision.type}s for seat {hand.actor_seat}")
    if table.action_deadline is None or at < table.action_deadline:
        raise ValueError(f"the clock runs out at {table.action_deadline}, not {at}")
    hand.act(decision.code)
    _start_clock(table, hand, at)


def _street(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _running_hand(table)
    cards = ev.read_cards(data, "cards")
    name = ev.STREET_NAMES.get(len(hand.board) + len(cards))
    if ev.read_str(data, "street") != name:
        raise ValueError(f"{len(cards)} cards on a {len(hand.board)}-card board is no street")
    hand.deal_board(cards)
    _start_clock(table, hand, at)


def _showdown(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _finished_hand(table)
    hands = ev.read_list(data, "hands")
    expected = [
        {"seat": seat, "cards": list(cards), "hand": hand.describe(seat)}
        for seat, cards in hand.shows()
    ]
    if not expected or [dict(h) for h in hands] != expected:
        raise ValueError(f"pokerkit's showdown was {expected}")
    table.shown = [seat for seat, _ in hand.shows()]


def _pot_awarded(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _finished_hand(table)
    awards = [ev.pot_awarded(a.amount, a.seats, a.winners) for a in hand.awards()]
    if dict(data) not in awards:
        raise ValueError(f"pokerkit awarded {awards}")


def _hand_ended(table: TableState, data: Mapping[str, Any], at: int) -> None:
    hand = _finished_hand(table)
    if ev.read_int(data, "handNumber") != table.hand_number:
        raise ValueError(f"hand {table.hand_number} is the one running")
    stacks = table.stacks_after_hand()
    if ev.read_stacks(data, "stacks") != stacks:
        raise ValueError(f"the stacks after hand {table.hand_number} are {stacks}")
    for number, stack in stacks.items():
        table.seats[number].stack = stack
    table.hand, table.last_hand = None, hand.ended()
    table.action_deadline = None
    table.next_hand_at = at + table.settings.next_hand_delay_ms


def _game_completed(table: TableState, data: Mapping[str, Any], at: int) -> None:
    if "reason" in data:
        _game_abandoned(table, data)
        return
    # The winner form, the only one in logs written before games could be abandoned.
    seat = ev.read_int(data, "seat")
    player_id = ev.read_str(data, "playerId")
    if table.status == "completed" or table.hand_running:
        raise ValueError("the game cannot complete now")
    if table.seats_with_chips() != [seat] or table.seats[seat].player_id != player_id:
        raise ValueError(f"{player_id!r} at seat {seat} does not hold every chip")
    table.set_status("completed")
    table.next_hand_at = None


def _game_abandoned(table: TableState, data: Mapping[str, Any]) -> None:
    """No winner: allowed in any phase, also mid-hand. The hand (or the ended one) stays on the
    table as it is and no chip moves; only the clocks stop."""
    reason = ev.read_str(data, "reason")
    if not 0 < len(reason) <= ev.MAX_REASON_LENGTH:
        raise ValueError(f"a reason has 1 to {ev.MAX_REASON_LENGTH} characters")
    if "seat" in data or "playerId" in data:
        raise ValueError("a game completed for a reason has no winner")
    if table.status == "completed":
        raise ValueError("the game is already completed")
    table.set_status("completed")
    table.action_deadline = table.next_hand_at = None


def _snapshot_restored(table: TableState, data: Mapping[str, Any], at: int) -> None:
    """A rollback: `table` is the state at `version` (the host loaded it from its snapshot, a
    replay rebuilt it); the seq moves on to the event's and the clocks restart from its `at`, as
    if the state had just been reached: the actor gets a whole action timeout, a table between
    hands its whole next-hand delay. Nothing else changes: the state is the one at `version`."""
    version = ev.read_int(data, "version")
    if version != table.seq:
        raise ValueError(f"the state given is at seq {table.seq}, not at version {version}")
    if table.status == "completed":
        return  # a completed table runs no clock
    if table.hand is not None:
        _start_clock(table, table.hand, at)
    elif table.next_hand_at is not None:
        table.next_hand_at = at + table.settings.next_hand_delay_ms


# Helpers for appliers.


def _running_hand(table: TableState) -> Hand:
    if table.hand is None:
        raise ValueError("no hand is running")
    return table.hand


def _finished_hand(table: TableState) -> Hand:
    hand = _running_hand(table)
    if not hand.is_over:
        raise ValueError("the hand is still being played")
    return hand


def _start_clock(table: TableState, hand: Hand, at: int) -> None:
    # The event that hands someone the turn starts their clock, so replay gives the same deadline.
    seat = hand.actor_seat
    table.action_deadline = None if seat is None else at + table.settings.action_timeout_ms


_Applier = Callable[[TableState, Mapping[str, Any], int], None]
_APPLIERS: dict[str, _Applier] = {
    ev.PLAYER_JOINED: _player_joined,
    ev.HAND_STARTED: _hand_started,
    ev.BLIND_POSTED: _blind_posted,
    ev.HOLE_CARDS: _hole_cards,
    ev.ACTION: _action,
    ev.TIMEOUT: _timeout,
    ev.STREET: _street,
    ev.SHOWDOWN: _showdown,
    ev.POT_AWARDED: _pot_awarded,
    ev.HAND_ENDED: _hand_ended,
    ev.GAME_COMPLETED: _game_completed,
    ev.SNAPSHOT_RESTORED: _snapshot_restored,
}
