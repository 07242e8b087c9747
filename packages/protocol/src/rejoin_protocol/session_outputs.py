"""What a `ClientSession` asks its driver to do, and what it tells the application.

One frozen dataclass each. The driver acts on the transport ones (`Dial`, `Send`,
`CloseTransport`), the application consumes the rest. Connections are named by the number their
`Dial` carried; the driver passes it back with every transport input. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from rejoin_protocol.session_states import SessionState

__all__ = [
    "ActionAbandoned",
    "ActionAcked",
    "ActionRejected",
    "CloseTransport",
    "Dial",
    "EventDelivered",
    "PresenceChanged",
    "Resumed",
    "Resynced",
    "Send",
    "SessionFailed",
    "SessionOutput",
    "SessionState",
    "StatusChanged",
    "TokenIssued",
]


# --- for the driver ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dial:
    """Open a transport to the game's WebSocket; report it as `connection`."""

    connection: int


@dataclass(frozen=True, slots=True)
class Send:
    """Send `text` as one text frame on `connection`."""

    connection: int
    text: str


@dataclass(frozen=True, slots=True)
class CloseTransport:
    """Close `connection` with this code; the session has already given it up, so whatever it
    still reports is ignored."""

    connection: int
    code: int
    reason: str


# --- for the application -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChanged:
    previous: SessionState
    current: SessionState
    reason: str
    """Why, in words, for logs and status lines (`"heard nothing for 15 s"`, a close reason)."""


@dataclass(frozen=True, slots=True)
class TokenIssued:
    """A fresh reconnect token (from `welcome` or `token`): save it, the older one is spent.
    `session_token`, when set, replaces the session token too (a `welcome` always has one; a
    `token` message from a server that renews session tokens does)."""

    token: str
    expires_at: str
    session_token: str | None


@dataclass(frozen=True, slots=True)
class Resynced:
    """The server could not replay what was missed: `game_state` at `seq` replaces whatever the
    application built from earlier events; the events after `seq` follow."""

    seq: int
    game_state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventDelivered:
    """The next event of the game log: `seq` is one more than the previous one delivered (or
    than the last `Resynced`). Save `seq` as the last seq."""

    seq: int
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Resumed:
    """A `welcome` was taken in; its missed events were delivered just before this."""

    seat: int
    seq: int
    game_state: dict[str, Any]
    resync: bool
    missed: int
    """How many missed events were delivered (none on a resync)."""
    offline_for: float | None
    """Seconds from losing the previous welcomed connection to this welcome; None the first time."""
    epoch: str | None = None
    """The history epoch the seat's events now come from: save it with the last seq (the next
    `hello` sends it back, so a history lost in a server crash is answered with a resync)."""
    node: str | None = None
    """The node that welcomed the client (`welcome.node`), if the server said."""


@dataclass(frozen=True, slots=True)
class ActionAcked:
    action_id: str
    seq: int
    duplicate: bool
    durable: bool


@dataclass(frozen=True, slots=True)
class ActionRejected:
    """The server refused the action (`not_your_turn`, `stale_state`, …); it took no effect."""

    action_id: str
    code: str
    message: str
    details: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ActionAbandoned:
    """The session closed before the action was answered. If it was `sent` it may have taken
    effect: the event log will tell."""

    action_id: str
    sent: bool


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    player_id: str
    connected: bool


@dataclass(frozen=True, slots=True)
class SessionFailed:
    """The session stopped for good: retrying with this token cannot succeed.

    `code` is the server's error code when it said one (`token_reused`, `game_completed`, …),
    else the close reason (`superseded`); `details` as the error carried them (for
    `game_completed`, the final `gameState`); `close_code` when the close said one."""

    code: str
    message: str
    details: dict[str, Any] | None
    close_code: int | None


SessionOutput: TypeAlias = (
    Dial
    | Send
    | CloseTransport
    | StatusChanged
    | TokenIssued
    | Resynced
    | EventDelivered
    | Resumed
    | ActionAcked
    | ActionRejected
    | ActionAbandoned
    | PresenceChanged
    | SessionFailed
)
