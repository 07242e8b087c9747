"""One connection of the SSE transport, sans-I/O: HTTP toward the server, WebSocket frames toward the
session.

The `ClientSession` stays the one state machine, whatever the transport: it sends `hello` and
`action` frames and reads `welcome`, `event`, `ack`, `error`, `token`, `presence` and `ping`. An
`SseBridge` stands where the WebSocket would, and turns:

- `hello` into `POST …/reconnect` (the same token, clientId, lastSeq and epoch), whose answer
  becomes the `welcome` (or the `error` and the close code a refused `hello` gets), and then
  into `GET …/events?after=<the welcome's seq>` with the session token;
- each `action` into `POST …/action` with the same actionId, one at a time and in order (so a
  resend after a resume is deduplicated by the server: exactly once, as over the WebSocket). Its
  answer becomes an `ack`, held back until the stream has delivered the action's own event, as
  the WebSocket never lets an ack overtake it; or an `error` naming the action;
- the stream's messages into `event` frames (a message with an `id:` is an event, whatever its
  kind: the `id:` is the seq), its notices (no `id:`) into `presence` and `token` (the bridge
  keeps its session token for the next requests), and a heartbeat comment into `ping`;
  its final `close` event (or its end, or any request that got no answer) into the loss of the
  connection, with the close code the WebSocket would have had (but for a stream ended because
  the player opened too many: a loss the session resumes from, its seat still its own).

As over the WebSocket, what the session sends wrong is its protocol error (4400: fatal), while an
answer or a stream message of the server's that is not one is the server breaking the protocol
(1002: the session dials again), never a reason to give up the seat.

What the driver must do comes out of `outputs()`: make an `HttpCall` and give the answer to
`answered` (or `call_failed`), open the `OpenStream` and feed it to `stream_opened`,
`stream_text` and `stream_ended` (`failed` if its own work broke off), pass each `Deliver` frame
to the session, and on `Lost` report the loss once and stop everything. After `Lost` or
`close()` every input is ignored.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rejoin.sse.answers import error_of, known_code, welcome_of, whole_number
from rejoin.sse.outputs import BridgeOutput, Deliver, HttpCall, Lost, OpenStream
from rejoin.sse.parser import SseComment, SseMessage, SseParser
from rejoin_protocol.errors import (
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SERVER_BROKE_PROTOCOL,
    FATAL_CLOSE_CODES,
    REASON_TOO_MANY_STREAMS,
)
from rejoin_protocol.messages import (
    Ack,
    Action,
    Error,
    EventMessage,
    Hello,
    Ping,
    Pong,
    Presence,
    ProtocolError,
    TokenMessage,
    decode_client,
    encode,
)

__all__ = ["BridgeOutput", "Deliver", "HttpCall", "Lost", "OpenStream", "SseBridge"]


@dataclass(slots=True)
class _Held:
    """An ack waiting for the stream to deliver its action's event."""

    ack: Ack
    frame: str = field(init=False)

    def __post_init__(self) -> None:
        self.frame = encode(self.ack)


class SseBridge:
    """Connection `game_url` (`http[s]://host[/prefix]/api/game/<gameId>`) of one session."""

    def __init__(self, game_url: str, game_id: str) -> None:
        self._game_url = game_url.rstrip("/")
        self._game_id = game_id
        self._outputs: list[BridgeOutput] = []
        self._parser = SseParser()
        self._player_id: str | None = None
        self._session_token: str | None = None
        self._welcomed = False
        self._hello_sent = False
        self._stream_seq = 0  # the last seq the stream (or the welcome) brought
        self._queued: deque[Action] = deque()  # actions not yet posted, in order
        self._posting: str | None = None  # the actionId of the one request out
        self._held: list[_Held] = []
        self._over = False

    @property
    def over(self) -> bool:
        return self._over

    def outputs(self) -> list[BridgeOutput]:
        outputs, self._outputs = self._outputs, []
        return outputs

    # --- from the session --------------------------------------------------------------------

    def client_frame(self, text: str) -> None:
        """A frame the session sent (`link.send`)."""
        if self._over:
            return
        try:
            message = decode_client(text)
        except ProtocolError as exc:
            self._lose(CLOSE_PROTOCOL_ERROR, f"the session sent a bad frame: {exc}")
            return
        match message:
            case Hello():
                self._hello(message)
            case Action():
                if not self._welcomed:
                    self._lose(CLOSE_PROTOCOL_ERROR, "an action before the welcome")
                    return
                self._queued.append(message)
                self._post_next()
            case Ping() | Pong():
                pass  # the server's heartbeat comments keep the session's silence timer fed

    def close(self) -> None:
        """The session closed this connection: nothing more comes out."""
        self._over = True
        self._outputs.clear()

    # --- from the driver ---------------------------------------------------------------------

    def answered(self, call: HttpCall, status: int, body: Any, node: str | None = None) -> None:
        """`call` got an answer: `status`, its JSON `body` (None if it was not JSON), and the
        `X-Rejoin-Node` header."""
        if self._over:
            return
        if call.kind == "reconnect":
            self._reconnected(status, body, node)
        else:
            self._acted(call, status, body)

    def call_failed(self, call: HttpCall, reason: str) -> None:
        """`call` got no answer (refused, reset, timed out): whether an action took effect is
        unknown, so the connection is lost and the session resends it after the resume."""
        what = "the reconnect" if call.kind == "reconnect" else f"action {call.action_id}"
        self._lose(None, f"{what} got no answer: {reason}")

    def stream_opened(self, status: int, body: Any) -> None:
        """The stream's answer began: 200 starts it, anything else ends the connection."""
        if self._over or status == 200:
            return
        self._refused_after_welcome(status, body, "the event stream")

    def stream_text(self, chunk: str) -> None:
        """Text of the stream as it arrives."""
        if self._over:
            return
        try:
            items = self._parser.feed(chunk)
        except ValueError as exc:
            self._lose(None, str(exc))
            return
        for item in items:  # after a loss, `_emit` lets nothing more out
            if isinstance(item, SseComment):
                self._deliver(encode(Ping(0)))  # a heartbeat: the session answers, we drop it
            else:
                self._message(item)

    def failed(self, reason: str) -> None:
        """The driver's own work broke off (`reason` says which and why): the connection is
        lost, and the session dials again."""
        self._lose(None, reason)

    def stream_ended(self, reason: str = "") -> None:
        """The stream closed without a `close` event (a restart, a dropped connection)."""
        self._lose(None, f"the event stream ended{': ' + reason if reason else ''}")

    # --- the reconnect -----------------------------------------------------------------------

    def _hello(self, hello: Hello) -> None:
        if self._hello_sent:
            self._lose(CLOSE_PROTOCOL_ERROR, "a second hello")
            return
        self._hello_sent = True
        self._player_id = hello.player_id
        body: dict[str, Any] = {
            "gameId": self._game_id,
            "playerId": hello.player_id,
            "reconnectToken": hello.token,
            "clientId": hello.client_id,
        }
        if hello.last_seq is not None:
            body["lastSeq"] = hello.last_seq
        if hello.last_epoch is not None:
            body["lastEpoch"] = hello.last_epoch
        self._emit(HttpCall("reconnect", "POST", f"{self._game_url}/reconnect", body, None))

    def _reconnected(self, status: int, body: Any, node: str | None) -> None:
        if status != 200 or not isinstance(body, dict):
            error = error_of(body)
            if error is None:
                self._lose(None, f"the reconnect was answered {status} without an error code")
                return
            code, message, details = error
            self._deliver(encode(Error(code, message, details=details)))
            known = known_code(code)
            self._lose(known.hello_close_code if known else None, code)
            return
        try:
            welcome = welcome_of(body, self._player_id or "", node)
        except (KeyError, TypeError, ValueError) as exc:
            self._lose(CLOSE_SERVER_BROKE_PROTOCOL, f"the reconnect answer is not one: {exc!r}")
            return
        self._welcomed = True
        self._session_token = welcome.session_token
        self._stream_seq = welcome.seq
        self._deliver(encode(welcome))
        url = f"{self._game_url}/events?after={welcome.seq}"
        self._emit(OpenStream(url, welcome.session_token))

    # --- actions -----------------------------------------------------------------------------

    def _post_next(self) -> None:
        if self._posting is not None or not self._queued or self._session_token is None:
            return
        action = self._queued.popleft()
        body: dict[str, Any] = {
            **action.action.fields,
            "actionId": action.action_id,
            "type": action.action.type,
        }
        if action.action.amount is not None:
            body["amount"] = action.action.amount
        if action.at_seq is not None:
            body["atSeq"] = action.at_seq
        self._posting = action.action_id
        url = f"{self._game_url}/action"
        self._emit(HttpCall("action", "POST", url, body, self._session_token, action.action_id))

    def _acted(self, call: HttpCall, status: int, body: Any) -> None:
        action_id = call.action_id
        assert action_id is not None
        if status == 200 and isinstance(body, dict):
            try:
                ack = Ack(
                    action_id,
                    whole_number(body, "seq"),
                    bool(body["duplicate"]),
                    bool(body["durable"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                self._lose(CLOSE_SERVER_BROKE_PROTOCOL, f"the action's answer is not one: {exc!r}")
                return
            self._posting = None
            if ack.seq <= self._stream_seq:
                self._deliver(encode(ack))
            else:
                self._held.append(_Held(ack))
            self._post_next()
            return
        error = error_of(body)
        known = known_code(error[0]) if error is not None else None
        if error is None or known is None or known.close_code is not None:
            self._refused_after_welcome(status, body, f"action {action_id}")
            return
        code, message, details = error
        self._posting = None
        self._deliver(encode(Error(code, message, action_id, details)))
        self._post_next()

    # --- the stream --------------------------------------------------------------------------

    def _message(self, message: SseMessage) -> None:
        try:
            data = json.loads(message.data)
        except ValueError:
            self._lose(CLOSE_SERVER_BROKE_PROTOCOL, f"a {message.event} message that is not JSON")
            return
        try:
            if message.id is not None:
                # An event, whatever its kind: a game may name its own events `presence`, `token`
                # or `close`, while the stream's notices are never sequenced (no `id:`).
                self._event(int(message.id), data)
                return
            match message.event:
                case "presence":
                    self._deliver(encode(Presence(str(data["playerId"]), bool(data["connected"]))))
                case "token":
                    session = str(data["sessionToken"])
                    self._session_token = session
                    self._deliver(
                        encode(TokenMessage(str(data["token"]), str(data["expiresAt"]), session))
                    )
                case "close":
                    self._closed_by_server(data)
                case _:
                    pass  # a notice of a newer server: not ours to guess at
        except (KeyError, TypeError, ValueError) as exc:
            self._lose(
                CLOSE_SERVER_BROKE_PROTOCOL, f"a {message.event} message is not one: {exc!r}"
            )

    def _event(self, seq: int, event: Any) -> None:
        if not isinstance(event, dict):
            raise TypeError(f"event {seq} is not an object")
        self._deliver(encode(EventMessage(seq, event)))
        self._stream_seq = max(self._stream_seq, seq)
        due = [held for held in self._held if held.ack.seq <= self._stream_seq]
        if due:
            self._held = [held for held in self._held if held.ack.seq > self._stream_seq]
            for held in due:
                self._deliver(held.frame)

    def _closed_by_server(self, data: Any) -> None:
        code = data.get("code") if isinstance(data, dict) else None
        reason = data.get("reason") if isinstance(data, dict) else None
        if reason == REASON_TOO_MANY_STREAMS:
            # The player opened too many streams (other tabs, say) and this, the oldest, was
            # ended: a 4409, but the seat is still this session's, so it resumes.
            self._lose(None, reason)
            return
        self._lose(
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            reason if isinstance(reason, str) else "the server ended the event stream",
        )

    # --- plumbing ----------------------------------------------------------------------------

    def _refused_after_welcome(self, status: int, body: Any, what: str) -> None:
        """A request after the welcome refused by the server. A refused session token (401) is
        not final here: the seat may have been resumed elsewhere, or the token may have run out,
        and only a reconnect with the reconnect token can tell; so the connection is lost and
        the session dials again, which either resumes or is refused for good. Anything else that
        ends a WebSocket ends this connection the same way."""
        error = error_of(body)
        known = known_code(error[0]) if error is not None else None
        if error is None or known is None or status == 401 or known.close_code is None:
            said = error[0] if error is not None else f"HTTP {status}"
            self._lose(None, f"{what} was refused ({said}): resuming")
            return
        code, message, details = error
        close_code = known.close_code
        if close_code in FATAL_CLOSE_CODES:
            self._deliver(encode(Error(code, message, details=details)))
        self._lose(close_code, code)

    def _deliver(self, frame: str) -> None:
        self._emit(Deliver(frame))

    def _emit(self, output: BridgeOutput) -> None:
        if not self._over:
            self._outputs.append(output)

    def _lose(self, code: int | None, reason: str) -> None:
        if self._over:
            return
        self._outputs.append(Lost(code, reason))
        self._over = True
