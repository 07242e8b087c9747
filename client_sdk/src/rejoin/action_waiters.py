"""The futures of a `GameClient`'s `act()` calls, settled by the session's answers."""

from __future__ import annotations

import asyncio

from rejoin.errors import ActionAbandonedError, ActionRejectedError, SessionFailedError
from rejoin.results import ActionResult
from rejoin_protocol.session_outputs import ActionAbandoned, ActionAcked, ActionRejected

__all__ = ["ActionWaiters"]


class ActionWaiters:
    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[ActionResult]] = {}

    def add(self, action_id: str) -> asyncio.Future[ActionResult]:
        answer: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._waiting[action_id] = answer
        return answer

    def settle(
        self,
        output: ActionAcked | ActionRejected | ActionAbandoned,
        failure: SessionFailedError | None,
    ) -> None:
        """Answer the `act()` waiting for `output`'s action; an abandoned one raises `failure`
        (why the session ended) if there is one."""
        answer = self._waiting.pop(output.action_id, None)
        if answer is None or answer.done():
            return  # requested by nobody waiting any more (the act() was cancelled)
        match output:
            case ActionAcked(action_id=action_id, seq=seq, duplicate=duplicate, durable=durable):
                answer.set_result(ActionResult(action_id, seq, duplicate, durable))
            case ActionRejected(action_id=action_id, code=code, message=message, details=details):
                answer.set_exception(ActionRejectedError(action_id, code, message, details))
            case ActionAbandoned(action_id=action_id, sent=sent):
                answer.set_exception(failure or ActionAbandonedError(action_id, sent))
