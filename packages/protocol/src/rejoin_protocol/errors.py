"""The stable error codes (docs/http-api.md), with their HTTP status and WebSocket close codes.

Clients branch on `code`; the table below is the one place that maps a code to a transport, and
the `CLOSE_*` constants are every WebSocket close code either side sends. Standard library only,
so it runs unchanged in Pyodide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# --- WebSocket close codes -------------------------------------------------------------------------
# RFC 6455 reserves 1000-2999 for the standard's own meanings; 4000-4999 are this protocol's, and
# mirror the HTTP status of the same refusal (4401 ~ 401) so that a log reads the same either way.

CLOSE_NORMAL = 1000
"""Sent by the client when it leaves (closed by the application, a session failed, offline)."""
CLOSE_SERVER_BROKE_PROTOCOL = 1002
"""Sent by the client when the server sent a frame that is not a server message (read only for
the server's logs)."""
CLOSE_INTERNAL = 1011
"""The server failed on this connection (logged there); reconnect with backoff."""
CLOSE_SERVER_RESTARTING = 1012
"""Graceful shutdown, or the game was reloaded: reconnect at once and resume."""
CLOSE_TRY_AGAIN_LATER = 1013
"""The store is unavailable at `hello`, a limit was reached, or this client fell too far behind
the events (slow consumer): reconnect with backoff and resume from the last seq."""
CLOSE_PROTOCOL_ERROR = 4400
"""A frame that is not a message, a message out of order (no `hello` first), a wrong version; a
`hello` refused with an error code that has no close code of its own."""
CLOSE_UNAUTHORIZED = 4401
"""The reconnect token is invalid, expired or already used."""
CLOSE_FORBIDDEN = 4403
"""The token is for another game or player, or the player holds no seat in this game."""
CLOSE_GAME_NOT_FOUND = 4404
"""No such game on this server."""
CLOSE_HEARTBEAT_TIMEOUT = 4408
"""The server heard nothing from the client for its idle timeout: reconnect and resume."""
CLOSE_SUPERSEDED = 4409
"""Another connection resumed this seat, or holds it (`seat_conflict`): this one must not fight
back (do not reconnect)."""
CLOSE_GAME_COMPLETED = 4410
"""The game is over; the `error` before the close carries its final state."""

REASON_TOO_MANY_STREAMS = "superseded: too many streams"
"""The reason of the 4409 that ends a player's oldest event stream when they open one more than
the server allows. Not a seat won elsewhere: the seat is still the reader's own, so a client
whose stream this was (the SDK's SSE transport) resumes rather than stop."""

FATAL_CLOSE_CODES = frozenset(
    {
        CLOSE_PROTOCOL_ERROR,
        CLOSE_UNAUTHORIZED,
        CLOSE_FORBIDDEN,
        CLOSE_GAME_NOT_FOUND,
        CLOSE_SUPERSEDED,
        CLOSE_GAME_COMPLETED,
    }
)
"""Close codes after which reconnecting with the same token cannot succeed: a client stops and
tells its user. Any other close (1006 lost, 1011, 1012, 1013, 4408) is retried with backoff."""


# --- error codes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    http_status: int
    close_code: int | None
    hello_close_code: int


def _ends(http_status: int, close_code: int) -> _Spec:
    """An error that ends the connection wherever it is met: the same close code at `hello`."""
    return _Spec(http_status, close_code, close_code)


def _answers(http_status: int, at_hello: int) -> _Spec:
    """An error that answers one action and leaves the connection open; at `hello`, where every
    refusal ends the connection, it closes with `at_hello`."""
    return _Spec(http_status, None, at_hello)


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
        """The WebSocket close code when this error ends a connection, None when it does not
        (it answers one action, and the connection stays)."""
        return _SPECS[self].close_code

    @property
    def hello_close_code(self) -> int:
        """The close code of a WebSocket whose `hello` is refused with this error."""
        return _SPECS[self].hello_close_code


_SPECS: dict[ErrorCode, _Spec] = {
    ErrorCode.INVALID_REQUEST: _answers(422, CLOSE_PROTOCOL_ERROR),
    ErrorCode.UNAUTHORIZED: _ends(401, CLOSE_UNAUTHORIZED),
    ErrorCode.FORBIDDEN: _ends(403, CLOSE_FORBIDDEN),
    ErrorCode.GAME_NOT_FOUND: _ends(404, CLOSE_GAME_NOT_FOUND),
    ErrorCode.GAME_COMPLETED: _ends(410, CLOSE_GAME_COMPLETED),
    ErrorCode.GAME_ACTIVE: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.SEAT_TAKEN: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.TABLE_FULL: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.NOT_YOUR_TURN: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.INVALID_ACTION: _answers(422, CLOSE_PROTOCOL_ERROR),
    # At `hello`: the game was reloaded while the hello waited for it; resume again at once.
    ErrorCode.STALE_STATE: _answers(409, CLOSE_SERVER_RESTARTING),
    ErrorCode.NO_HAND_IN_PROGRESS: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.HAND_IN_PROGRESS: _answers(409, CLOSE_PROTOCOL_ERROR),
    ErrorCode.TOKEN_INVALID: _ends(401, CLOSE_UNAUTHORIZED),
    ErrorCode.TOKEN_EXPIRED: _ends(401, CLOSE_UNAUTHORIZED),
    ErrorCode.TOKEN_REUSED: _ends(401, CLOSE_UNAUTHORIZED),
    ErrorCode.SEAT_CONFLICT: _ends(409, CLOSE_SUPERSEDED),
    ErrorCode.PLAYER_NOT_IN_GAME: _ends(403, CLOSE_FORBIDDEN),
    ErrorCode.STATE_CORRUPTED: _answers(409, CLOSE_INTERNAL),
    ErrorCode.STORAGE_UNAVAILABLE: _answers(503, CLOSE_TRY_AGAIN_LATER),
    ErrorCode.STORAGE_FULL: _answers(507, CLOSE_TRY_AGAIN_LATER),
    ErrorCode.RATE_LIMITED: _answers(429, CLOSE_TRY_AGAIN_LATER),
    ErrorCode.INTERNAL: _answers(500, CLOSE_INTERNAL),
}
