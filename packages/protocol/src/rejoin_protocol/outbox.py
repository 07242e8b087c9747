"""The actions a client has requested and not yet seen settled, in the order it requested them.

An action is settled once: by its `ack`, by an `error` naming it, or by being abandoned when the
session ends. Until then it is resent after every resume under the same `actionId`, which is what
lets the server apply it once however many times it arrives. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rejoin_protocol.messages import Action, ActionBody

__all__ = ["Outbox", "Pending"]


@dataclass(slots=True)
class Pending:
    """An unsettled action; `sent` once it has been handed to a transport (so it may have
    taken effect even if no answer ever comes)."""

    action: Action
    sent: bool = False


class Outbox:
    __slots__ = ("_new_id", "_pending")

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        # dicts keep insertion order: the resend order is the request order.
        self._pending: dict[str, Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, body: ActionBody, at_seq: int | None) -> Pending:
        """A new action with a fresh id, pending (not sent yet)."""
        action_id = self._new_id()
        if not action_id:
            raise ValueError("the action id factory returned an empty id")
        if action_id in self._pending:
            # Two actions under one id would be deduplicated into one by the server.
            raise ValueError(f"the action id factory returned {action_id!r} twice")
        pending = Pending(Action(action_id, body, at_seq))
        self._pending[action_id] = pending
        return pending

    def pending(self) -> list[Pending]:
        """The unsettled actions, oldest first."""
        return list(self._pending.values())

    def settle(self, action_id: str) -> Pending | None:
        """Remove and return the action, or None if it is not pending (a duplicate answer)."""
        return self._pending.pop(action_id, None)

    def settle_all(self) -> list[Pending]:
        """Remove and return every unsettled action, oldest first."""
        pending, self._pending = list(self._pending.values()), {}
        return pending
