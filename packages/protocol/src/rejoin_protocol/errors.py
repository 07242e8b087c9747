"""The stable error codes of DESIGN §2, with their HTTP status and WebSocket close code.

Clients branch on `code`; this table is the one place that maps a code to a transport. Standard
library only, so it runs unchanged in Pyodide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class _Spec:
    http_status: int
    close_code: int | None


class ErrorCode(StrEnum):
    """An error code as it appears on the wire (`error.code`)."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    GAME_NOT_FOUND = "game_not_found"
    GAME_COMPLETED = "game_completed"
    GAME_ACTIVE = "game_active"
    SEAT_TAKEN = "seat_taken"
    TABLE_FULL = "table_full"
    NOT_YOUR_TURN = "not_your_turn"
    INVALID_ACTION = "invalid_action"
    STALE_STATE = "stale_state"
    NO_HAND_IN_PROGRESS = "no_hand_in_progress"
    HAND_IN_PROGRESS = "hand_in_progress"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REUSED = "token_reused"
    SEAT_CONFLICT = "seat_conflict"
    PLAYER_NOT_IN_GAME = "player_not_in_game"
    STATE_CORRUPTED = "state_corrupted"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    STORAGE_FULL = "storage_full"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"

    @property
    def http_status(self) -> int:
        return _SPECS[self].http_status

    @property
    def close_code(self) -> int | None:
        """The WebSocket close code when this error ends a connection, None when it does not."""
        return _SPECS[self].close_code


_SPECS: dict[ErrorCode, _Spec] = {
    ErrorCode.INVALID_REQUEST: _Spec(422, None),
    ErrorCode.UNAUTHORIZED: _Spec(401, 4401),
    ErrorCode.FORBIDDEN: _Spec(403, 4403),
    ErrorCode.GAME_NOT_FOUND: _Spec(404, 4404),
    ErrorCode.GAME_COMPLETED: _Spec(410, 4410),
    ErrorCode.GAME_ACTIVE: _Spec(409, None),
    ErrorCode.SEAT_TAKEN: _Spec(409, None),
    ErrorCode.TABLE_FULL: _Spec(409, None),
    ErrorCode.NOT_YOUR_TURN: _Spec(409, None),
    ErrorCode.INVALID_ACTION: _Spec(422, None),
    ErrorCode.STALE_STATE: _Spec(409, None),
    ErrorCode.NO_HAND_IN_PROGRESS: _Spec(409, None),
    ErrorCode.HAND_IN_PROGRESS: _Spec(409, None),
    ErrorCode.TOKEN_INVALID: _Spec(401, 4401),
    ErrorCode.TOKEN_EXPIRED: _Spec(401, 4401),
    ErrorCode.TOKEN_REUSED: _Spec(401, 4401),
    ErrorCode.SEAT_CONFLICT: _Spec(409, 4409),
    ErrorCode.PLAYER_NOT_IN_GAME: _Spec(403, 4403),
    ErrorCode.STATE_CORRUPTED: _Spec(409, None),
    ErrorCode.STORAGE_UNAVAILABLE: _Spec(503, None),
    ErrorCode.STORAGE_FULL: _Spec(507, None),
    ErrorCode.RATE_LIMITED: _Spec(429, None),
    ErrorCode.INTERNAL: _Spec(500, None),
}

# WebSocket close codes that are not errors of the table above.
CLOSE_PROTOCOL_ERROR = 4400
"""A frame that is not a message, a message out of order (no `hello` first), a wrong version."""
CLOSE_SUPERSEDED = 4409
"""Another connection resumed this seat; this one must not fight back (do not reconnect)."""
CLOSE_SERVER_RESTARTING = 1012
"""Graceful shutdown, or the game was reloaded: reconnect at once and resume."""
CLOSE_INTERNAL = 1011
"""The server failed on this connection (logged there); reconnect with backoff."""
CLOSE_TRY_AGAIN_LATER = 1013
"""The store is unavailable at `hello`, or this client fell too far behind the events (slow
consumer): reconnect with backoff and resume from the last seq."""
CLOSE_HEARTBEAT_TIMEOUT = 4408
"""The server heard nothing from the client for its idle timeout: reconnect and resume."""

FATAL_CLOSE_CODES = frozenset({4400, 4401, 4403, 4404, 4409, 4410})
"""Close codes after which reconnecting with the same token cannot succeed: a client stops and
tells its user. Any other close (1006 lost, 1011, 1012, 1013, 4408) is retried with backoff."""
