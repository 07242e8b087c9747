"""What the player to act may do, and reading a requested move from an `Act`.

One function (`check_bid`) judges a bid both when a player asks (`commands`, which reports
`invalid_action`) and when the stored `bid` event is applied (a mismatch there is a corrupt log), so
the two cannot disagree. The clock's move (`timeout_move`) is here too, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from liars_dice.settings import whole_number
from liars_dice.state import FACES, Challenge, DiceState
from rejoin_server.games import Act, GameRuleError, JsonDict

BID: Final = "bid"
CHALLENGE: Final = "challenge"
MOVES = (BID, CHALLENGE)
_BID_FIELDS = ("count", "face")


@dataclass(frozen=True, slots=True)
class Move:
    type: Literal["bid", "challenge"]
    count: int = 0
    face: int = 0


def read_move(command: Act) -> Move:
    """The move an `Act` asks for: `{"type": "bid", "count": n, "face": f}` or
    `{"type": "challenge"}`; `invalid_action` for anything else, including fields a move does not
    take (a client bug is better reported than ignored)."""
    if command.type == CHALLENGE:
        if command.data:
            raise _invalid(
                f"A challenge has no fields; leave out {', '.join(sorted(command.data))}."
            )
        return Move(CHALLENGE)
    if command.type != BID:
        raise _invalid(f"Unknown action type {command.type!r}; use one of {', '.join(MOVES)}.")
    extra = sorted(set(command.data) - set(_BID_FIELDS))
    if extra:
        raise _invalid(f"A bid has only `count` and `face`; leave out {', '.join(extra)}.")
    numbers = []
    for key in _BID_FIELDS:
        value = whole_number(command.data.get(key))
        if value is None:
            raise _invalid(f"A bid needs `{key}`, a whole number, not {command.data.get(key)!r}.")
        numbers.append(value)
    return Move(BID, numbers[0], numbers[1])


def check_bid(state: DiceState, count: int, face: int) -> None:
    """`invalid_action` unless `count` x `face` is a bid the player to act may make now."""
    total = state.dice_in_play()
    if not 1 <= face <= FACES:
        raise _invalid(f"`face` must be from 1 to {FACES}, not {face}.")
    if not 1 <= count <= total:
        raise _invalid(f"`count` must be from 1 to {total} (the dice in play), not {count}.")
    bid = state.bid
    if bid is not None and not bid.beats(count, face):
        raise _invalid(
            f"Bid higher than {bid.count} x {bid.face}: a higher count, or {bid.count} of a "
            f"higher face; or challenge."
        )


def check_challenge(state: DiceState) -> None:
    if state.bid is None:
        raise _invalid("There is no bid to challenge yet: open the round with a bid.")


def challenge_outcome(state: DiceState, challenger: int) -> Challenge:
    """`challenger` calls the standing bid: it holds when at least `count` dice of the round show
    `face` (no die is wild), and then the challenger loses a die, else the bidder does."""
    bid = state.bid
    if bid is None:
        raise ValueError("there is no bid to challenge")
    matching = state.matching(bid.face)
    return Challenge(challenger, bid, matching, challenger if matching >= bid.count else bid.seat)


def smallest_raise(state: DiceState) -> tuple[int, int] | None:
    """The lowest bid above the one standing: the same count of the next face, or one more die
    of face 1 after a 6; None when no bid is higher (every die in play, of face 6)."""
    bid = state.bid
    if bid is None:
        return (1, 1)
    if bid.face < FACES:
        return (bid.count, bid.face + 1)
    if bid.count < state.dice_in_play():
        return (bid.count + 1, 1)
    return None


def timeout_move(state: DiceState) -> Move:
    """What the clock plays for the player to act: the smallest bid above the one standing
    (`smallest_raise`: 1 x 1 when opening a round), or a challenge when there is none.

    The clock's move is public and depends on public state only: a move drawn from the player's
    dice (say, 1 x the face of their first die) would tell every opponent one of them."""
    assert state.to_act is not None, "nobody is to act"
    raised = smallest_raise(state)
    return Move(CHALLENGE) if raised is None else Move(BID, *raised)


def legal_actions(state: DiceState) -> list[JsonDict]:
    """The `legalActions` of the player to act (docs/games.md's generic form)."""
    out: list[JsonDict] = []
    raised = smallest_raise(state)
    if raised is not None:
        out.append(
            {
                "type": BID,
                "fields": {
                    # The lowest count some face can be bid at; a lower face at that count may
                    # still be too low (the message says what is).
                    "count": {
                        "type": "integer",
                        "minimum": raised[0],
                        "maximum": state.dice_in_play(),
                    },
                    "face": {"type": "integer", "minimum": 1, "maximum": FACES},
                },
            }
        )
    if state.bid is not None:
        out.append({"type": CHALLENGE})
    return out


def _invalid(message: str) -> GameRuleError:
    return GameRuleError("invalid_action", message)
