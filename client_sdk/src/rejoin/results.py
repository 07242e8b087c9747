"""What `GameClient` hands back besides events: an action's result and the figures of a resume."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ActionResult", "ResumeFigures"]


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The server's `ack`: the action is applied (and, if `durable`, committed) as event `seq`.
    `duplicate` when the server had applied it before (a resend after a lost ack)."""

    action_id: str
    seq: int
    duplicate: bool
    durable: bool


@dataclass(frozen=True, slots=True)
class ResumeFigures:
    """One `welcome`, measured on the client's monotonic clock (seconds)."""

    seq: int
    """The game's seq at the welcome."""
    resync: bool
    """The server sent a fresh state instead of the missed events (too many, or no last seq)."""
    missed: int
    """Events replayed by this welcome (0 on a resync)."""
    outage: float | None
    """From losing the previous welcomed connection to this welcome; None for the first one."""
    time_to_resume: float
    """From dialling the connection that was welcomed to its welcome (connect, hello, replay)."""
    node: str | None = None
    """The server node that welcomed the client (a cluster names each node), if it said."""
    moved: bool = False
    """The game moved: this welcome came from another node than the previous one (a node was
    drained, stopped or died, and another took the game over)."""
