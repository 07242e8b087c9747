"""The exceptions of the SDK: one per way a request can end other than as asked, each with the
fields an application branches on (`code` is the server's stable error code: docs/http-api.md)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ActionAbandonedError",
    "ActionRejectedError",
    "ClientClosedError",
    "HttpApiError",
    "NotJoinedError",
    "RejoinError",
    "SessionFailedError",
]


class RejoinError(Exception):
    """Base of every error the SDK raises on purpose."""


class HttpApiError(RejoinError):
    """The HTTP API answered with an error (or with something that is not its JSON)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        retry_after_s: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message
        # `rate_limited`: the seconds the server asked the client to wait before asking again.
        self.retry_after_s = retry_after_s
        # The error's `details` (e.g. `game_completed`'s final `gameState`); {} when none.
        self.details: dict[str, Any] = details or {}


class NotJoinedError(RejoinError):
    """`connect()` found no saved seat for the game: `join()` first (or use the store that
    holds it)."""


class ClientClosedError(RejoinError):
    """The client was closed: `connect()` waiting for its first welcome ends with this, and so
    does any `act()` after `close()`."""


class ActionRejectedError(RejoinError):
    """The server refused the action (`not_your_turn`, `invalid_action`, …); it took no effect."""

    def __init__(
        self, action_id: str, code: str, message: str, details: dict[str, Any] | None
    ) -> None:
        super().__init__(f"action {action_id} rejected: {code}: {message}")
        self.action_id = action_id
        self.code = code
        self.message = message
        self.details = details


class ActionAbandonedError(RejoinError):
    """The client was closed before the action was answered. If it was `sent`, it may have
    taken effect: the event log says."""

    def __init__(self, action_id: str, sent: bool) -> None:
        super().__init__(f"action {action_id} abandoned ({'sent' if sent else 'never sent'})")
        self.action_id = action_id
        self.sent = sent


class SessionFailedError(RejoinError):
    """The server refused the seat for good (`token_reused`, `seat_conflict`, `game_completed`,
    …): retrying with the saved token cannot succeed. `details` as the server gave them (for
    `game_completed`, the final `gameState`)."""

    def __init__(
        self, code: str, message: str, details: dict[str, Any] | None, close_code: int | None
    ) -> None:
        super().__init__(f"session failed: {code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        self.close_code = close_code
