"""The states of a client session and the one table of which trigger moves it where.

`TRANSITIONS` is the single source of truth: `next_state` looks a (state, trigger) pair up there
and raises `SessionStateError`, naming the state, the trigger and what that state expects, for a
pair the table does not hold. Self-loops are listed too (an action requested while connecting
leaves the state as it is) so that the table also says which inputs a state accepts at all.
Standard library only.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TRANSITIONS", "SessionState", "SessionStateError", "Trigger", "next_state"]


class SessionState(StrEnum):
    IDLE = "idle"
    """Not started."""
    CONNECTING = "connecting"
    """A transport was asked for and has not opened."""
    HANDSHAKING = "handshaking"
    """The transport is open, `hello` is sent, no `welcome` yet."""
    CONNECTED = "connected"
    """Welcomed: events stream, actions go out as they are requested."""
    BACKING_OFF = "backing_off"
    """The last connection is gone; waiting out the backoff delay before dialling again."""
    CLOSED = "closed"
    """For good: closed by the application, or stopped by a fatal refusal."""


class Trigger(StrEnum):
    """What can happen to a session; with the state, it picks the next state."""

    START = "start"
    """The application starts the session."""
    OPENED = "opened"
    """The transport asked for opened."""
    FRAME = "frame"
    """A frame arrived on the current transport."""
    WELCOMED = "welcomed"
    """A `welcome` was taken in, its replay without a gap."""
    DROPPED = "dropped"
    """The connection is gone: lost, closed with a code worth retrying, silent too long, or
    given up by the session (a gap, a frame out of place)."""
    RETRY = "retry"
    """The backoff wait is over."""
    FAILED = "failed"
    """A refusal that retrying cannot fix."""
    ACT = "act"
    """The application requested an action."""
    CLOSE = "close"
    """The application closed the session."""


_S = SessionState
_T = Trigger
TRANSITIONS: dict[tuple[SessionState, Trigger], SessionState] = {
    (_S.IDLE, _T.START): _S.CONNECTING,
    (_S.IDLE, _T.ACT): _S.IDLE,
    (_S.IDLE, _T.CLOSE): _S.CLOSED,
    (_S.CONNECTING, _T.OPENED): _S.HANDSHAKING,
    (_S.CONNECTING, _T.DROPPED): _S.BACKING_OFF,
    (_S.CONNECTING, _T.FAILED): _S.CLOSED,
    (_S.CONNECTING, _T.ACT): _S.CONNECTING,
    (_S.CONNECTING, _T.CLOSE): _S.CLOSED,
    (_S.HANDSHAKING, _T.FRAME): _S.HANDSHAKING,
    (_S.HANDSHAKING, _T.WELCOMED): _S.CONNECTED,
    (_S.HANDSHAKING, _T.DROPPED): _S.BACKING_OFF,
    (_S.HANDSHAKING, _T.FAILED): _S.CLOSED,
    (_S.HANDSHAKING, _T.ACT): _S.HANDSHAKING,
    (_S.HANDSHAKING, _T.CLOSE): _S.CLOSED,
    (_S.CONNECTED, _T.FRAME): _S.CONNECTED,
    (_S.CONNECTED, _T.DROPPED): _S.BACKING_OFF,
    (_S.CONNECTED, _T.FAILED): _S.CLOSED,
    (_S.CONNECTED, _T.ACT): _S.CONNECTED,
    (_S.CONNECTED, _T.CLOSE): _S.CLOSED,
    (_S.BACKING_OFF, _T.RETRY): _S.CONNECTING,
    (_S.BACKING_OFF, _T.ACT): _S.BACKING_OFF,
    (_S.BACKING_OFF, _T.CLOSE): _S.CLOSED,
    (_S.CLOSED, _T.CLOSE): _S.CLOSED,
}
"""(state, trigger) → next state. A pair that is absent is not allowed."""


class SessionStateError(RuntimeError):
    """An input the session cannot take in its current state (a bug in the driver)."""

    def __init__(self, state: SessionState, trigger: Trigger) -> None:
        allowed = sorted(t.value for (s, t) in TRANSITIONS if s is state)
        super().__init__(
            f"a session in state {state.value!r} cannot take {trigger.value!r}; "
            f"it expects one of: {', '.join(allowed)}"
        )
        self.state = state
        self.trigger = trigger


def next_state(state: SessionState, trigger: Trigger) -> SessionState:
    """Where `trigger` takes a session in `state`; raises SessionStateError if it may not."""
    new = TRANSITIONS.get((state, trigger))
    if new is None:
        raise SessionStateError(state, trigger)
    return new
