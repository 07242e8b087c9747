"""What one command asks pokerkit about a hand's state, asked once per change of that state.

`Hand` keeps one `Asked` for its state as it is now and replaces it at every change
(`Hand._changed`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pokerkit import State


class Asked:
    """pokerkit's answers about its state as it is now, each asked once: a new one replaces it at
    every change of the state (`Hand._changed`).

    Each answer costs pokerkit a re-verification of the state (the bet and raise bounds about
    eight, each asking for the calling amount again), and one command asks the same questions many
    times: `handle` to judge it and drive the hand on (who is dealt next, whether a street is due),
    `apply` to check its event, then every view of the table (each player's legal actions, the
    minimum raise). Asked once per change, they cost a fraction."""

    def __init__(self, state: State) -> None:
        self._state = state

    @cached_property
    def actor_index(self) -> int | None:
        return self._state.actor_index

    @cached_property
    def hole_dealee_index(self) -> int | None:
        return self._state.hole_dealee_index

    @cached_property
    def board_due(self) -> int:
        state = self._state
        street = state.street
        # Asked with no card, pokerkit checks only that a burn is due; asked with the unknown burn
        # card, it would also search its whole deck for it, on every call.
        if street is None or not state.can_burn_card():
            return 0
        return street.board_dealing_count

    @cached_property
    def to_call(self) -> int:
        return self._state.checking_or_calling_amount or 0

    @cached_property
    def can_fold(self) -> bool:
        return bool(self._state.can_fold())

    @cached_property
    def raise_range(self) -> tuple[int, int] | None:
        state = self._state
        # The minimum is None exactly when `can_complete_bet_or_raise_to()` is False (both run the
        # same verification), and in no-limit the maximum is the whole stack, never below it: so
        # two verifications instead of the eight `can_complete_bet_or_raise_to` would add.
        low = state.min_completion_betting_or_raising_to_amount
        if low is None:
            return None
        high = state.max_completion_betting_or_raising_to_amount
        assert high is not None
        return low, high

    @cached_property
    def pots(self) -> list[tuple[int, list[int]]]:
        return [(int(pot.amount), list(pot.player_indices)) for pot in self._state.pots]
