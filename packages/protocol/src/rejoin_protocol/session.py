"""The sans-I/O client session (docs/protocol.md): resume, exactly-once events, the action outbox, the
heartbeat and backoff, as a state machine that does no I/O and never reads the clock.

The rules this module obeys:

- Inputs are method calls; `now` (seconds, on any monotonic clock the driver likes) comes with
  every input that needs the time. Outputs (`session_outputs`) queue up until the driver drains
  them with `outputs()`; `wake_at` is when it wants `time_passed` called next.
- A transport is named by the number its `Dial` carried. Input about any other connection (a late
  frame or close of one the session already gave up) is ignored: only the current one counts.
- Every state change goes through `session_states.TRANSITIONS`, the one table of which input may
  happen in which state. An input it does not allow is the driver's bug: `SessionStateError`.
  A server message out of place (an event before `welcome`, a frame that does not decode) is the
  server's fault, not the driver's: it drops the connection and resumes, like a lost link.
- Events reach the application in seq order, each once: duplicates are dropped, and a gap drops
  the connection so that the `hello` of the next one asks for what is missing.
- The session stops retrying only on a refusal that retrying cannot fix: an error code whose close
  code is in `FATAL_CLOSE_CODES`, or a close with one of those codes. Everything else backs off.

Standard library only, so it runs unchanged under Pyodide.

Longer than 400 lines because it is one state machine: the inputs, the handling of each server
message and the connection bookkeeping read and change the same state, so splitting them would
spread one transition over several files. What stands apart already has its own module (the
outputs, the state table, the backoff and the action outbox).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, assert_never

from rejoin_protocol.backoff import Backoff, BackoffPolicy
from rejoin_protocol.errors import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_NORMAL,
    CLOSE_SERVER_BROKE_PROTOCOL,
    CLOSE_SERVER_RESTARTING,
    FATAL_CLOSE_CODES,
    ErrorCode,
)
from rejoin_protocol.messages import (
    MAX_FRAME_BYTES,
    Ack,
    Action,
    ActionBody,
    Error,
    EventMessage,
    Hello,
    Message,
    Ping,
    Pong,
    Presence,
    ProtocolError,
    ServerMessage,
    TokenMessage,
    Welcome,
    decode_server,
    encode,
)
from rejoin_protocol.outbox import Outbox, Pending
from rejoin_protocol.session_outputs import (
    ActionAbandoned,
    ActionAcked,
    ActionRejected,
    CloseTransport,
    Dial,
    EventDelivered,
    PresenceChanged,
    Resumed,
    Resynced,
    Send,
    SessionFailed,
    SessionOutput,
    StatusChanged,
    TokenIssued,
)
from rejoin_protocol.session_states import SessionState, SessionStateError, Trigger, next_state

__all__ = [
    "FATAL_ERROR_CODES",
    "ClientSession",
    "SessionConfig",
    "SessionState",
    "SessionStateError",
]

FATAL_ERROR_CODES: frozenset[str] = frozenset(
    code for code in ErrorCode if code.close_code in FATAL_CLOSE_CODES
)
"""Error codes that end a session: the ones whose close code is fatal (token_invalid,
token_expired, token_reused, unauthorized, forbidden, player_not_in_game, game_not_found,
game_completed, seat_conflict), so that errors.py stays the one place that decides."""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    silence_timeout: float = 15.0
    """Seconds without a frame from the server (or without the transport opening) after which
    the link counts as dead. The server pings every 5 s, so this is three missed pings."""
    stable_after: float = 5.0
    """Seconds a welcomed connection must last before the backoff count starts again: a server
    that accepts and then drops at once must not be dialled in a tight loop."""
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)


def _new_action_id() -> str:
    return uuid.uuid4().hex


class ClientSession:
    """One player's seat in one game, kept across any number of connections."""

    def __init__(
        self,
        *,
        player_id: str,
        token: str,
        client_id: str,
        last_seq: int | None = None,
        epoch: str | None = None,
        config: SessionConfig | None = None,
        random_source: Callable[[], float] = random.random,
        new_action_id: Callable[[], str] = _new_action_id,
    ) -> None:
        self._config = config or SessionConfig()
        self._player_id = player_id
        self._client_id = client_id
        self._token = token
        self._last_seq = last_seq
        self._epoch = epoch  # the history epoch of the welcome that last_seq builds on
        self._gap_after: int | None = None  # the last seq at the latest gap since a welcome
        self._ask_resync = False  # the next hello goes without a last seq
        self._state = SessionState.IDLE
        self._outputs: list[SessionOutput] = []
        self._outbox = Outbox(new_action_id)
        self._backoff = Backoff(self._config.backoff, random_source)
        self._dialled = 0  # connection numbers handed out so far
        self._connection: int | None = None  # the current one, None when there is none
        self._deadline: float | None = None  # of the silence timer, or of the backoff wait
        self._refusal: Error | None = None  # an `error` without actionId on this connection
        self._welcomed_at: float | None = None
        self._offline_since: float | None = None

    # --- what the driver and the application read ------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def last_seq(self) -> int | None:
        """The seq of the last event delivered (or of the last resync); None before any."""
        return self._last_seq

    @property
    def epoch(self) -> str | None:
        """The history epoch of the latest welcome (save it with the last seq)."""
        return self._epoch

    @property
    def token(self) -> str:
        """The newest reconnect token: the one the next `hello` sends."""
        return self._token

    @property
    def wake_at(self) -> float | None:
        """When to call `time_passed` next; None when no timer runs (idle, closed)."""
        return self._deadline

    @property
    def unsettled_actions(self) -> list[str]:
        """The ids of actions not yet acked, rejected or abandoned, oldest first."""
        return [pending.action.action_id for pending in self._outbox.pending()]

    def outputs(self) -> list[SessionOutput]:
        """Everything produced since the last call, in order; the queue is emptied."""
        outputs, self._outputs = self._outputs, []
        return outputs

    # --- inputs -----------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin: ask for the first connection."""
        self._fire(Trigger.START, "started")
        self._dial(now)

    def connection_opened(self, connection: int, now: float) -> None:
        """The transport of `connection` is open: say `hello`."""
        if not self._is_current(connection):
            return
        self._fire(Trigger.OPENED, "transport open")
        self._deadline = now + self._config.silence_timeout
        # After the same gap twice the server cannot fill it (say a relaxed-durability crash
        # lost events): ask without a last seq, which the server answers with a resync.
        last_seq = None if self._ask_resync else self._last_seq
        epoch = None if last_seq is None else self._epoch
        self._send(Hello(self._player_id, self._token, self._client_id, last_seq, last_epoch=epoch))

    def message_received(self, connection: int, text: str | bytes, now: float) -> None:
        """A text frame arrived on `connection`."""
        if not self._is_current(connection):
            return
        self._fire(Trigger.FRAME, "frame")
        self._deadline = now + self._config.silence_timeout
        try:
            message = decode_server(text)
        except ProtocolError as exc:
            self._drop(now, CLOSE_SERVER_BROKE_PROTOCOL, f"the server sent a bad frame: {exc}")
            return
        self._on_message(message, now)

    def connection_lost(
        self, connection: int, now: float, code: int | None = None, reason: str = ""
    ) -> None:
        """The transport of `connection` closed (or never opened); `code` as the close said."""
        if not self._is_current(connection):
            return
        self._connection = None
        if code in FATAL_CLOSE_CODES:
            refusal = self._refusal
            if refusal is not None:
                self._fail(refusal.code, refusal.message, refusal.details, code)
            else:
                self._fail(reason or f"close_{code}", f"the server closed with {code}", None, code)
            return
        described = f"closed with {code}" if code is not None else "connection lost"
        # A dial that failed without opening, while a connection that was up is freshly lost: the
        # server is plainly coming back (it binds its port before it loads, so only a process
        # still starting refuses), and its port may be back any moment: retry quickly. A link
        # with no handshake of its own (SSE: "open" at once, then an HTTP request for the
        # `hello`) says the same by a loss without a close code before the welcome: its request
        # got no answer.
        unanswered = self._state is SessionState.HANDSHAKING and code is None
        quick = (
            self._state is SessionState.CONNECTING or unanswered
        ) and self._offline_since is not None
        # 1012: the server is restarting and will be back at once; dial within the first bound.
        soon = code == CLOSE_SERVER_RESTARTING
        self._back_off(now, f"{described} {reason}".strip(), soon=soon, quick=quick)

    def time_passed(self, now: float) -> None:
        """The clock reads `now`: fire whatever timer is due."""
        if self._deadline is None or now < self._deadline:
            return
        if self._state is SessionState.BACKING_OFF:
            self._fire(Trigger.RETRY, f"retry {self._backoff.attempts}")
            self._dial(now)
            return
        silence = f"{self._config.silence_timeout:g} s"
        if self._state is SessionState.CONNECTING:
            reason = f"the transport did not open within {silence}"
        else:
            reason = f"heard nothing from the server for {silence}"
        self._drop(now, CLOSE_HEARTBEAT_TIMEOUT, reason)

    def network_changed(self, online: bool, now: float) -> None:
        """The platform says the network went away or came back (a browser's `offline` and
        `online` events). Offline: the current connection is given up at once (a browser keeps
        a dead WebSocket open until the silence timer), and the session backs off as after any
        drop. Online: a session waiting out its backoff dials now instead of at the deadline."""
        if self._state in (SessionState.IDLE, SessionState.CLOSED):
            return
        if not online:
            if self._connection is not None:
                self._drop(now, CLOSE_NORMAL, "the network went offline")
            return
        if self._state is SessionState.BACKING_OFF:
            self._fire(Trigger.RETRY, "the network is back")
            self._dial(now)

    def request_action(
        self,
        action_type: str,
        amount: int | None = None,
        at_seq: int | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> str:
        """Queue an action `{type, amount?, …fields}` (sent at once when connected, else after
        the next welcome) and return the actionId it was given; its settlement comes as an
        output. Raises ValueError (and queues nothing) for an action no frame can carry: fields
        that are not JSON, or too many of them: queued, it would fail at every resend."""
        body = ActionBody(action_type, amount, dict(fields or {}))
        try:
            frame = encode(Action("-" * 64, body, at_seq))  # the longest actionId it may get
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the action's fields are not JSON: {exc}") from exc
        if len(frame.encode()) > MAX_FRAME_BYTES:
            raise ValueError(f"the action is larger than a frame ({MAX_FRAME_BYTES} bytes)")
        self._fire(Trigger.ACT, "action")
        pending = self._outbox.add(body, at_seq)
        if self._state is SessionState.CONNECTED:
            self._send_action(pending)
        return pending.action.action_id

    def request_close(self) -> None:
        """Stop for good: close the transport, abandon unsettled actions. Closing twice is fine."""
        self._fire(Trigger.CLOSE, "closed by the application")
        self._release(CLOSE_NORMAL, "closed by the client")

    # --- server messages --------------------------------------------------------------------

    def _on_message(self, message: ServerMessage, now: float) -> None:
        match message:
            case Welcome():
                self._on_welcome(message, now)
            case EventMessage(seq=seq, event=event):
                if self._state is not SessionState.CONNECTED:
                    self._drop(now, CLOSE_SERVER_BROKE_PROTOCOL, "an event before welcome")
                elif not self._deliver(seq, event):
                    self._drop_for_gap(now, seq)
            case Ack():
                if self._outbox.settle(message.action_id) is not None:
                    self._emit(
                        ActionAcked(
                            message.action_id, message.seq, message.duplicate, message.durable
                        )
                    )
            case Error():
                self._on_error(message)
            case TokenMessage(token=token, expires_at=expires_at, session_token=session):
                self._token = token
                self._emit(TokenIssued(token, expires_at, session))
            case Presence(player_id=player_id, connected=connected):
                self._emit(PresenceChanged(player_id, connected))
            case Ping(t=t):
                self._send(Pong(t))
            case Pong():
                pass  # hearing it was the point, and the silence timer has been pushed back
            case _:
                assert_never(message)

    def _on_welcome(self, welcome: Welcome, now: float) -> None:
        if self._state is not SessionState.HANDSHAKING:
            self._drop(now, CLOSE_SERVER_BROKE_PROTOCOL, "a second welcome")
            return
        # The hello spent the old token: keep the new one even if the replay below shows a gap.
        self._token = welcome.token.token
        self._epoch = welcome.epoch
        self._emit(
            TokenIssued(welcome.token.token, welcome.token.expires_at, welcome.session_token)
        )
        missed = 0
        if welcome.resync:
            self._last_seq = welcome.seq
            self._emit(Resynced(welcome.seq, welcome.game_state))
        else:
            for event in welcome.missed_events:
                seq = event.get("seq")
                if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                    self._drop(now, CLOSE_SERVER_BROKE_PROTOCOL, "a missed event without a seq")
                    return
                before = self._last_seq
                if not self._deliver(seq, event):
                    self._drop_for_gap(now, seq)
                    return
                if self._last_seq != before:
                    missed += 1
            if (self._last_seq or 0) < welcome.seq:
                # The replay stops short of the welcome's seq, and the stream starts after it.
                self._drop_for_gap(now, welcome.seq)
                return
        offline_for = None if self._offline_since is None else now - self._offline_since
        self._gap_after, self._ask_resync = None, False
        self._welcomed_at = now
        self._offline_since = None
        self._fire(Trigger.WELCOMED, "welcomed")
        self._emit(
            Resumed(
                welcome.seat,
                welcome.seq,
                welcome.game_state,
                welcome.resync,
                missed,
                offline_for,
                welcome.epoch,
                welcome.node,
            )
        )
        for pending in self._outbox.pending():
            self._send_action(pending)

    def _on_error(self, error: Error) -> None:
        if error.action_id is not None:
            if self._outbox.settle(error.action_id) is not None:
                self._emit(
                    ActionRejected(error.action_id, error.code, error.message, error.details)
                )
            return
        if error.code in FATAL_ERROR_CODES:
            self._fail(error.code, error.message, error.details, None)
            return
        # Any other refusal (storage_unavailable, internal, …) is followed by a close whose code
        # decides; keep the error so that a fatal close can say what the server said.
        self._refusal = error

    def _deliver(self, seq: int, event: dict[str, Any]) -> bool:
        """Deliver the event if it is the next one; False on a gap (nothing delivered)."""
        last = self._last_seq or 0
        if seq <= last:
            return True  # delivered before: a replay overlapping the stream, or a resent frame
        if seq != last + 1:
            return False
        self._last_seq = seq
        self._emit(EventDelivered(seq, event))
        return True

    # --- connections ------------------------------------------------------------------------

    def _is_current(self, connection: int) -> bool:
        if not 1 <= connection <= self._dialled:
            raise ValueError(f"connection {connection} was never dialled")
        return connection == self._connection

    def _dial(self, now: float) -> None:
        self._dialled += 1
        self._connection = self._dialled
        self._refusal = None
        # A transport that neither opens nor fails is as dead as a silent one.
        self._deadline = now + self._config.silence_timeout
        self._emit(Dial(self._dialled))

    def _drop(self, now: float, code: int, reason: str, *, soon: bool = False) -> None:
        """Give up on the current connection and back off."""
        if self._connection is not None:
            self._emit(CloseTransport(self._connection, code, reason))
            self._connection = None
        self._back_off(now, reason, soon=soon)

    def _drop_for_gap(self, now: float, seq: int) -> None:
        # Resume at once: the server is fine, and the next welcome replays what is missing. The
        # same gap again means it cannot: back off as usual and ask for a resync instead.
        again = self._gap_after == self._last_seq
        self._gap_after = self._last_seq
        self._ask_resync = again
        what = "asking for a resync" if again else "resuming to fetch the gap"
        reason = f"event {seq} after {self._last_seq}: {what}"
        self._drop(now, CLOSE_SERVER_BROKE_PROTOCOL, reason, soon=not again)

    def _back_off(self, now: float, reason: str, *, soon: bool, quick: bool = False) -> None:
        if self._state is SessionState.CONNECTED:
            self._offline_since = now
            # Reset only for a connection that stayed up; one that opened and dropped at once
            # counts as a failure like any other.
            assert self._welcomed_at is not None
            if now - self._welcomed_at >= self._config.stable_after:
                self._backoff.reset()
        self._fire(Trigger.DROPPED, reason)
        self._deadline = now + self._backoff.next_delay(soon=soon, quick=quick)

    def _fail(
        self, code: str, message: str, details: dict[str, Any] | None, close_code: int | None
    ) -> None:
        self._fire(Trigger.FAILED, code)
        self._emit(SessionFailed(code, message, details, close_code))
        self._release(CLOSE_NORMAL, f"session failed: {code}")

    def _release(self, code: int, reason: str) -> None:
        """Let go of everything when closed: the transport, the timer, the unsettled actions."""
        if self._connection is not None:
            self._emit(CloseTransport(self._connection, code, reason))
            self._connection = None
        self._deadline = None
        for pending in self._outbox.settle_all():
            self._emit(ActionAbandoned(pending.action.action_id, pending.sent))

    # --- plumbing ---------------------------------------------------------------------------

    def _fire(self, trigger: Trigger, reason: str) -> None:
        new = next_state(self._state, trigger)
        if new is not self._state:
            previous, self._state = self._state, new
            self._emit(StatusChanged(previous, new, reason))

    def _send_action(self, pending: Pending) -> None:
        pending.sent = True
        self._send(pending.action)

    def _send(self, message: Message) -> None:
        assert self._connection is not None
        self._emit(Send(self._connection, encode(message)))

    def _emit(self, output: SessionOutput) -> None:
        self._outputs.append(output)
