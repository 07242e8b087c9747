"""What the player to act may do, and turning a requested action into a pokerkit decision.

One function (`decide`) judges an action both when a player asks (`handle`, which reports
`invalid_action`) and when the stored `action` event is applied (a mismatch there is a corrupt log),
so the two can never disagree. Amounts: `call` carries the chips added; bet, raise and allin carry
the player's total bet for the street ("total bet to").
"""

from __future__ import annotations

from dataclasses import dataclass

from rejoin_server.games.base import Act, GameRuleError, JsonDict
from rejoin_server.games.poker import hand as _hand
from rejoin_server.games.poker.events import ACTION_TYPES
from rejoin_server.games.poker.hand import Hand


@dataclass(frozen=True, slots=True)
class Decision:
    type: str
    code: str
    amount: int
    """The event's amount: chips added for call, total bet for bet/raise/allin, else 0."""
    raise_to: int | None = None


def legal_actions(hand: Hand) -> list[JsonDict]:
    """The `legalActions` (docs/http-api.md) of the player to act."""
    if hand.actor_seat is None:
        return []
    out: list[JsonDict] = []
    if hand.can_fold():
        out.append({"type": "fold"})
    to_call = hand.to_call()
    out.append({"type": "call", "amount": to_call} if to_call else {"type": "check"})
    span = hand.raise_range()
    if span is not None:
        out.append(
            {"type": "raise" if hand.facing_bet() else "bet", "min": span[0], "max": span[1]}
        )
    allin = hand.allin_to()
    if allin is not None:
        out.append({"type": "allin", "amount": allin})
    return out


def min_raise_to(hand: Hand) -> int | None:
    span = hand.raise_range()
    return None if span is None else span[0]


def action_amount(command: Act) -> int | None:
    """The one field a poker action has, `amount` (a whole number of chips, the total bet to);
    any other field is a client bug, refused rather than ignored."""
    extra = sorted(key for key in command.data if key != "amount")
    if extra:
        raise _invalid(
            f"A poker action has only `type` and `amount`; leave out {', '.join(extra)}."
        )
    amount = command.data.get("amount")
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise _invalid(f"`amount` must be a whole number of chips (0 or more), not {amount!r}.")
    return amount


def decide(hand: Hand, type_: str, amount: object) -> Decision:
    """The decision for the actor's requested action; GameRuleError('invalid_action') if illegal."""
    to_call = hand.to_call()
    if type_ == "fold":
        if not hand.can_fold():
            raise _invalid("There is no bet to fold to: check instead.")
        return Decision(type_, _hand.FOLD, 0)
    if type_ == "check":
        if to_call:
            raise _invalid(f"You cannot check: call {to_call}, raise or fold.")
        return Decision(type_, _hand.CHECK_OR_CALL, 0)
    if type_ == "call":
        if not to_call:
            raise _invalid("There is nothing to call: check instead.")
        return Decision(type_, _hand.CHECK_OR_CALL, to_call)
    if type_ in ("bet", "raise"):
        return _bet_or_raise(hand, type_, amount)
    if type_ == "allin":
        allin = hand.allin_to()
        if allin is None:
            raise _invalid("You cannot go all in now: every other player is all in or folded.")
        if amount is not None and amount != allin:
            raise _invalid(f"All in is a total bet of {allin}; send that amount or none.")
        if hand.to_call() >= hand.stack_of(_actor(hand)):
            return Decision(type_, _hand.CHECK_OR_CALL, allin)
        return Decision(type_, _hand.BET_OR_RAISE, allin, raise_to=allin)
    raise _invalid(f"Unknown action type {type_!r}; use one of {', '.join(ACTION_TYPES)}.")


def timeout_decision(hand: Hand) -> Decision:
    """What the clock does for a player who did not act: check if free, else fold."""
    return decide(hand, "fold" if hand.to_call() else "check", None)


def _bet_or_raise(hand: Hand, type_: str, amount: object) -> Decision:
    if type_ == "bet" and hand.facing_bet():
        raise _invalid("There is already a bet: use raise (amount = your total bet).")
    if type_ == "raise" and not hand.facing_bet():
        raise _invalid("There is no bet to raise: use bet.")
    span = hand.raise_range()
    if span is None:
        raise _invalid(f"You cannot {type_} now: call, check or fold.")
    low, high = span
    if not isinstance(amount, int) or isinstance(amount, bool) or not low <= amount <= high:
        raise _invalid(
            f"A {type_} needs an amount (your total bet) from {low} to {high}, not {amount!r}."
        )
    return Decision(type_, _hand.BET_OR_RAISE, amount, raise_to=amount)


def _actor(hand: Hand) -> int:
    seat = hand.actor_seat
    assert seat is not None
    return seat


def _invalid(message: str) -> GameRuleError:
    return GameRuleError("invalid_action", message)
