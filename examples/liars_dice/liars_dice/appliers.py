"""`apply`: fold one event into a `DiceState`, the only code that changes a game.

One applier per event kind. Each checks the event against the state before changing anything, so an
impossible event raises ValueError and leaves the game as it was; clocks are computed from the
events' `at`, never from the wall clock, so replay and `load(dump())` give the same deadlines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from liars_dice import events as ev
from liars_dice import rules
from liars_dice.settings import MAX_NAME_LENGTH
from liars_dice.state import DiceState, Player
from rejoin_server.games import Event, GameRuleError

# The server's event of an operator's rollback (docs/games.md, "Rolling back").
SNAPSHOT_RESTORED = "snapshot_restored"


def apply(state: DiceState, event: Event) -> None:
    """Fold `event` into `state`; its seq must be `state.seq + 1`. ValueError if it cannot be
    applied (wrong seq, unknown kind, data that does not fit the game). A `snapshot_restored` (an
    operator's rollback) is the exception: it is given the state at its `version`, past which its
    seq may be anything, and may follow the end of the game (the rollback reopens it)."""
    if event.kind == SNAPSHOT_RESTORED:
        try:
            _snapshot_restored(state, event.data, event.at, event.seq)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"event {event.seq} ({event.kind}) cannot be applied: {exc}") from exc
        state.set_position(event.seq, state.status)
        return
    if event.seq != state.seq + 1:
        raise ValueError(f"event seq {event.seq} cannot follow seq {state.seq}")
    applier = _APPLIERS.get(event.kind)
    if applier is None:
        raise ValueError(f"event {event.seq} has unknown kind {event.kind!r}")
    if state.status == "completed":
        raise ValueError(f"event {event.seq} ({event.kind}) follows the end of the game")
    try:
        applier(state, event.data, event.at)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GameRuleError) as exc:
        raise ValueError(f"event {event.seq} ({event.kind}) cannot be applied: {exc}") from exc
    state.set_position(event.seq, state.status)


def _player_joined(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    seat = ev.read_int(data, "seat", 0, state.settings.seats - 1)
    player_id = ev.read_str(data, "playerId")
    name = ev.read_str(data, "name")
    dice = ev.read_int(data, "dice")
    if state.status != "waiting":
        raise ValueError("players join before the game starts")
    if seat in state.players:
        raise ValueError(f"seat {seat} is taken")
    if not player_id or state.seat_of(player_id) is not None:
        raise ValueError(f"player {player_id!r} cannot join twice")
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise ValueError(f"a name has 1 to {MAX_NAME_LENGTH} characters")
    if dice != state.settings.dice:
        raise ValueError(f"a player starts with {state.settings.dice} dice")
    state.players[seat] = Player(player_id, name, dice)


def _round_started(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    number = ev.read_int(data, "round", 1)
    seats = ev.read_seats(data, "seats")
    if state.round_running:
        raise ValueError(f"round {state.round} is still being played")
    if number != state.round + 1:
        raise ValueError(f"round {number} cannot follow round {state.round}")
    expected = state.round_order(state.next_starter())
    if seats != expected or len(seats) < 2:
        raise ValueError(f"round {number} is played by {expected}, not {seats}")
    state.set_status("playing")
    state.round, state.order, state.rolled = number, seats, {}
    state.bid = state.to_act = state.action_deadline = state.next_round_at = None
    state.revealed = False


def _dice_rolled(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    seat = ev.read_int(data, "seat")
    player_id = ev.read_str(data, "playerId")
    dice = ev.read_dice(data.get("dice"))
    if not state.round_running or seat != state.next_to_roll():
        raise ValueError(f"seat {seat} does not roll now (next: {state.next_to_roll()})")
    player = state.players[seat]
    if player.player_id != player_id:
        raise ValueError(f"{player_id!r} does not sit at seat {seat}")
    if len(dice) != player.dice_count:
        raise ValueError(f"seat {seat} rolls {player.dice_count} dice, not {len(dice)}")
    state.rolled[seat] = dice
    if state.next_to_roll() is None:  # every die is rolled: the starter's clock runs
        _hand_turn(state, state.order[0], at)


def _bid(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    made = ev.read_bid({"bid": data}, "bid")
    _check_turn(state, made.seat)
    rules.check_bid(state, made.count, made.face)
    state.bid = made
    _hand_turn(state, state.after(made.seat), at)


def _timeout(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    # A marker: the move the clock plays follows as its own event, checked against this one there.
    seat = ev.read_int(data, "seat")
    action = ev.read_str(data, "action")
    _check_turn(state, seat)
    if state.action_deadline is None or at < state.action_deadline:
        raise ValueError(f"the clock runs out at {state.action_deadline}, not {at}")
    if action != rules.timeout_move(state).type:
        raise ValueError(f"the clock plays {rules.timeout_move(state).type}, not {action}")


def _challenged(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    number = ev.read_int(data, "round", 1)
    seat = ev.read_int(data, "seat")
    called = ev.read_bid(data, "bid")
    reveal = ev.read_reveal(data, "reveal")
    matching = ev.read_int(data, "matching")
    loser = ev.read_int(data, "loser")
    _check_turn(state, seat)
    rules.check_challenge(state)
    if number != state.round or called != state.bid:
        raise ValueError(f"the bid standing in round {state.round} is {state.bid}")
    if reveal != state.rolled:
        raise ValueError("the dice shown are not the dice rolled")
    expected = rules.challenge_outcome(state, seat)
    if (matching, loser) != (expected.matching, expected.loser):
        raise ValueError(f"{expected.matching} dice match and seat {expected.loser} loses a die")
    state.players[loser].dice_count -= 1
    state.last_challenge = expected
    state.revealed = True
    state.to_act = state.action_deadline = None
    state.next_round_at = at + state.settings.next_round_delay_ms


def _game_completed(state: DiceState, data: Mapping[str, Any], at: int) -> None:
    if "reason" in data:
        reason = ev.read_str(data, "reason")
        if not 0 < len(reason) <= ev.MAX_REASON_LENGTH or set(data) != {"reason"}:
            raise ValueError(f"an abandon has a reason of 1 to {ev.MAX_REASON_LENGTH} characters")
    else:
        seat = ev.read_int(data, "seat")
        player_id = ev.read_str(data, "playerId")
        if state.round_running or state.seats_with_dice() != [seat]:
            raise ValueError(f"seat {seat} is not the last one with dice")
        if state.players[seat].player_id != player_id:
            raise ValueError(f"{player_id!r} does not sit at seat {seat}")
        state.winner = seat
    # Whatever was on the table stays as it was (unrevealed dice stay hidden); the clocks stop.
    state.set_status("completed")
    state.to_act = state.action_deadline = state.next_round_at = None


def _snapshot_restored(state: DiceState, data: Mapping[str, Any], at: int, seq: int) -> None:
    """The state at `version`, as a rollback restores it: only the clocks restart from `at`, as if
    it had just been reached (the player to act gets a whole timeout, the pause between rounds
    its whole delay)."""
    version = ev.read_int(data, "version")
    if version != state.seq or seq <= version:
        raise ValueError(f"the state given is at seq {state.seq}; version {version}, seq {seq}")
    if state.round_running and state.to_act is not None:
        _hand_turn(state, state.to_act, at)
    elif state.next_round_at is not None:
        state.next_round_at = at + state.settings.next_round_delay_ms


def _check_turn(state: DiceState, seat: int) -> None:
    if not state.round_running or state.to_act is None:
        raise ValueError("nobody is to act")
    if seat != state.to_act:
        raise ValueError(f"seat {seat} moved but seat {state.to_act} was to act")


def _hand_turn(state: DiceState, seat: int, at: int) -> None:
    # The event that hands someone the turn starts their clock, so replay gives the same deadline.
    state.to_act = seat
    state.action_deadline = at + state.settings.action_timeout_ms


_Applier = Callable[[DiceState, Mapping[str, Any], int], None]
_APPLIERS: dict[str, _Applier] = {
    ev.PLAYER_JOINED: _player_joined,
    ev.ROUND_STARTED: _round_started,
    ev.DICE_ROLLED: _dice_rolled,
    ev.BID: _bid,
    ev.TIMEOUT: _timeout,
    ev.CHALLENGED: _challenged,
    ev.GAME_COMPLETED: _game_completed,
}
