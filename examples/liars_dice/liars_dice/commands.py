"""`handle`: validate a command, then build its events one at a time, applying each before the next.

Everything is checked before the first event, so a refused command leaves the game untouched. Dice
are drawn here (`secrets`, or the engine's `roll` in tests), at the moment they are rolled, and
recorded in `dice_rolled` events: `apply` never draws. A challenge that leaves one player with dice
completes the game in the same command. `Abandon` ends the game whatever its phase; a completed
game refuses every command (`game_completed`) but `Tick`, which has nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from liars_dice import events as ev
from liars_dice import rules
from liars_dice.appliers import apply
from liars_dice.settings import MAX_NAME_LENGTH
from liars_dice.state import Bid, DiceState
from rejoin_server.games import Abandon, Act, Command, Event, GameRuleError, Join, Start, Tick

Roll = Callable[[int], Sequence[int]]
"""Rolls `n` dice: `n` faces from 1 to 6."""


class _Emitter:
    """Numbers, applies and collects the events of one `handle` call."""

    def __init__(self, state: DiceState, now_ms: int) -> None:
        self.state = state
        self.now_ms = now_ms
        self.events: list[Event] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        event = Event(seq=self.state.seq + 1, kind=kind, at=self.now_ms, data=data)
        apply(self.state, event)
        self.events.append(event)


def handle(state: DiceState, command: Command, now_ms: int, roll: Roll) -> list[Event]:
    emit = _Emitter(state, now_ms)
    match command:
        case Join():
            _join(state, command, emit)
        case Start():
            _start(state, command, emit, roll)
        case Act():
            _act(state, command, emit)
        case Tick():
            _tick(state, command, emit, roll)
        case Abandon():
            _abandon(state, command, emit)
    return emit.events


def _not_completed(state: DiceState) -> None:
    if state.status == "completed":
        raise GameRuleError("game_completed", "This game is over; create or join another game.")


def _join(state: DiceState, command: Join, emit: _Emitter) -> None:
    _not_completed(state)
    if not isinstance(command.player_id, str) or not command.player_id:
        raise GameRuleError("invalid_request", "A player id is required to join.")
    if state.seat_of(command.player_id) is not None:
        raise GameRuleError(
            "invalid_request",
            f"You already sit at seat {state.seat_of(command.player_id)} (numbered from 0); "
            "reconnect instead.",
        )
    if state.status != "waiting":
        raise GameRuleError(
            "game_active", "This game has started: players join before it starts; join another."
        )
    name = command.name.strip() if isinstance(command.name, str) else ""
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise GameRuleError(
            "invalid_request", f"Choose a name of 1 to {MAX_NAME_LENGTH} characters."
        )
    seats = state.settings.seats
    seat = command.seat
    if seat is None:
        free = [s for s in range(seats) if s not in state.players]
        if not free:
            raise GameRuleError("table_full", "Every seat is taken; join another game.")
        seat = free[0]
    elif isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < seats:
        raise GameRuleError(
            "invalid_request", f"Seat must be a number from 0 to {seats - 1}, or left out."
        )
    elif seat in state.players:
        raise GameRuleError(
            "seat_taken",
            f"Seat {seat} (numbered from 0) is taken; pick a free seat or leave it out.",
        )
    emit(ev.PLAYER_JOINED, ev.player_joined(seat, command.player_id, name, state.settings.dice))


def _seated(state: DiceState, player_id: str) -> int:
    _not_completed(state)
    seat = state.seat_of(player_id)
    if seat is None:
        raise GameRuleError("player_not_in_game", "You have no seat in this game; join it first.")
    return seat


def _start(state: DiceState, command: Start, emit: _Emitter, roll: Roll) -> None:
    _seated(state, command.player_id)
    if state.round_running:
        raise GameRuleError(
            "hand_in_progress", f"Round {state.round} is still being played; wait for its end."
        )
    if len(state.players) < 2:
        raise GameRuleError(
            "invalid_action", "A game needs at least 2 players; wait for another player to join."
        )
    # Between rounds a start rolls the next round now instead of after `nextRoundDelayMs`.
    _start_round(state, emit, roll)


def _act(state: DiceState, command: Act, emit: _Emitter) -> None:
    seat = _seated(state, command.player_id)
    if not state.round_running:
        raise GameRuleError(
            "no_hand_in_progress",
            "No round is being played; start the game or wait for the next round.",
        )
    if seat != state.to_act:
        out = " (you have no dice left)" if state.players[seat].dice_count == 0 else ""
        raise GameRuleError(
            "not_your_turn",
            f"It is seat {state.to_act}'s turn, not yours (seat {seat}){out}; wait for your turn.",
        )
    move = rules.read_move(command)
    if move.type == rules.BID:
        rules.check_bid(state, move.count, move.face)
    else:
        rules.check_challenge(state)
    _play(state, seat, move, emit)


def _play(state: DiceState, seat: int, move: rules.Move, emit: _Emitter) -> None:
    if move.type == rules.BID:
        emit(ev.BID, ev.bid(Bid(seat, move.count, move.face)))
        return
    outcome = rules.challenge_outcome(state, seat)
    emit(ev.CHALLENGED, ev.challenged(state.round, outcome, state.rolled))
    left = state.seats_with_dice()
    if len(left) == 1:
        emit(ev.GAME_COMPLETED, ev.game_completed(left[0], state.players[left[0]].player_id))


def _tick(state: DiceState, command: Tick, emit: _Emitter, roll: Roll) -> None:
    # One due thing per tick: with a zero delay a loop here could play rounds for ever.
    if state.status != "playing":
        return
    if state.round_running:
        seat, deadline = state.to_act, state.action_deadline
        if seat is not None and deadline is not None and emit.now_ms >= deadline:
            move = rules.timeout_move(state)
            emit(ev.TIMEOUT, ev.timeout(seat, move.type))
            _play(state, seat, move, emit)
        return
    due = state.next_round_at
    # Nobody at the table: the round that ran has ended by its clocks; the next waits for a player.
    if command.attended and due is not None and emit.now_ms >= due:
        _start_round(state, emit, roll)


def _abandon(state: DiceState, command: Abandon, emit: _Emitter) -> None:
    _not_completed(state)
    reason = command.reason
    if not isinstance(reason, str) or not 0 < len(reason) <= ev.MAX_REASON_LENGTH:
        raise GameRuleError(
            "invalid_request",
            f"An abandon reason must have 1 to {ev.MAX_REASON_LENGTH} characters.",
        )
    emit(ev.GAME_COMPLETED, ev.game_abandoned(reason))


def _start_round(state: DiceState, emit: _Emitter, roll: Roll) -> None:
    order = state.round_order(state.next_starter())
    emit(ev.ROUND_STARTED, ev.round_started(state.round + 1, order))
    for seat in order:
        player = state.players[seat]
        dice = list(roll(player.dice_count))
        emit(ev.DICE_ROLLED, ev.dice_rolled(seat, player.player_id, dice))
