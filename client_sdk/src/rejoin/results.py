"""What `GameClient` hands back besides events: an action's result and the figures of a resume."""

from __future__ import annotations

from dataclasses import dataclass

from rejoin_protocol.session_outputs import Resumed

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
    transport: str | None = None
    """What the welcome came over: "websocket" or "sse" (None from a link that does not say)."""

    @classmethod
    def of(
        cls,
        resumed: Resumed,
        *,
        since_dial: float,
        previous: ResumeFigures | None,
        transport: str | None,
    ) -> ResumeFigures:
        """The figures of `resumed`, `since_dial` seconds after its connection was dialled;
        `previous`: the resume before it (to tell a move between nodes)."""
        before = previous.node if previous is not None else None
        return cls(
            seq=resumed.seq,
            resync=resumed.resync,
            missed=resumed.missed,
            outage=resumed.offline_for,
            time_to_resume=since_dial,
            node=resumed.node,
            moved=before is not None and resumed.node is not None and resumed.node != before,
            transport=transport,
        )
