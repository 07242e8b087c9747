"""A small WebSocket client for `GET /api/game/{gameId}/ws` (docs/protocol.md), for tests.

A `WsClient` is one connection (the `websockets` library's synchronous client): JSON frames out,
every message it reads kept in order, and what a real client keeps to resume in a `Resume` that
outlives the connection: the newest reconnect token (from `welcome` and `token`), the last seq seen
and every event received (a welcome's `missedEvents`, then `event` messages). The events are only
recorded here, never checked: whether they are gapless is for the tests to assert.

Reading answers the server's `ping` with `pong`, as a live client does, unless the client was made
`answer_pings=False` (a client that has stopped answering). Nothing reads in the background: a
client hears what the server sent when the test reads, and the library buffers the rest.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from rejoin_testkit.api import JsonObject, new_action_id
from rejoin_testkit.polling import WaitTimeout
from rejoin_testkit.tables import Player

PROTOCOL = 1
READ_TIMEOUT_S = 10.0
# Frames the library buffers before it stops reading the socket: far more than a test leaves
# unread, so the server never sees a client that is slow only because the test looked elsewhere.
BUFFERED_FRAMES = 4096
_KEEP: Any = object()


@dataclass(slots=True)
class Resume:
    """What a client keeps across its connections to resume its seat."""

    player_id: str
    token: str
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    last_seq: int | None = None
    session: str | None = None
    events: list[JsonObject] = field(default_factory=list)
    epoch: str | None = None  # the latest welcome's history epoch, sent back as `lastEpoch`
    # The player whose seat this is, kept holding the newest session token: a welcome wins the
    # seat anew, after which the session token the player held before no longer works.
    player: Player | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, player: Player, last_seq: int | None = None) -> Resume:
        """A client starting from what `join` gave the player."""
        return cls(
            player.player_id, player.token, last_seq=last_seq, session=player.session, player=player
        )

    def adopt_session(self, session: str) -> None:
        self.session = session
        if self.player is not None:
            self.player.session = session


class WsClosed(AssertionError):
    """The connection closed while the test waited for a message."""

    def __init__(self, code: int | None, reason: str, waiting_for: str) -> None:
        super().__init__(
            f"the WebSocket closed ({code} {reason!r}) while waiting for {waiting_for}"
        )
        self.code = code
        self.reason = reason


def ws_url(base_url: str, game_id: str) -> str:
    return base_url.replace("http://", "ws://", 1) + f"/api/game/{game_id}/ws"


class WsClient:
    """One WebSocket connection to a game's channel."""

    def __init__(
        self,
        base_url: str,
        game_id: str,
        resume: Resume | None = None,
        *,
        answer_pings: bool = True,
        timeout: float = READ_TIMEOUT_S,
    ) -> None:
        self.game_id = game_id
        self.resume = resume
        self.answer_pings = answer_pings
        self.received: list[JsonObject] = []
        self._closed: tuple[int | None, str] | None = None
        self._conn: ClientConnection = connect(
            ws_url(base_url, game_id),
            open_timeout=timeout,
            # The channel's heartbeat is its own `ping` message; protocol-level pings would be
            # invisible to it and only blur what the heartbeat tests see.
            ping_interval=None,
            close_timeout=2,
            max_queue=BUFFERED_FRAMES,
            compression=None,
            proxy=None,
            legacy=True,
        )

    @property
    def upgrade_headers(self) -> Mapping[str, str]:
        """The headers of the server's upgrade answer (101): `X-Rejoin-Node` names the node."""
        response = self._conn.response
        assert response is not None, "the connection has no upgrade answer"
        return response.headers

    # Sending.

    def send(self, message: JsonObject) -> None:
        self._conn.send(json.dumps(message))

    def hello(
        self,
        *,
        last_seq: int | None = _KEEP,
        token: str | None = None,
        client_id: str | None = None,
    ) -> None:
        """`hello` with the resume state's token, client id and last seq (unless given)."""
        resume = self.resume
        assert resume is not None, "hello needs a Resume"
        message: JsonObject = {
            "type": "hello",
            "playerId": resume.player_id,
            "token": token if token is not None else resume.token,
            "clientId": client_id if client_id is not None else resume.client_id,
            "protocol": PROTOCOL,
        }
        seq = resume.last_seq if last_seq is _KEEP else last_seq
        if seq is not None:
            message["lastSeq"] = seq
            if resume.epoch is not None:
                message["lastEpoch"] = resume.epoch
        self.send(message)

    def action(
        self,
        type_: str,
        amount: int | None = None,
        *,
        action_id: str | None = None,
        at_seq: int | None = None,
    ) -> str:
        """Send an `action`; returns its actionId."""
        action_id = action_id or new_action_id()
        body: JsonObject = {"type": type_}
        if amount is not None:
            body["amount"] = amount
        message: JsonObject = {"type": "action", "actionId": action_id, "action": body}
        if at_seq is not None:
            message["atSeq"] = at_seq
        self.send(message)
        return action_id

    def ping(self, t: int) -> None:
        self.send({"type": "ping", "t": t})

    def round_trip(self, t: int, timeout: float = READ_TIMEOUT_S) -> None:
        """`ping` and read until its `pong` (the same `t`) is back."""
        self.ping(t)
        self.until(lambda m: m == {"type": "pong", "t": t}, f"pong {t}", timeout)

    # Reading.

    def next(self, timeout: float = READ_TIMEOUT_S, what: str = "a message") -> JsonObject:
        """The next message (recorded, a `ping` answered). Raises WsClosed or WaitTimeout."""
        if self._closed is not None:
            raise WsClosed(*self._closed, what)
        try:
            frame = self._conn.recv(timeout=timeout)
        except TimeoutError:
            raise WaitTimeout(f"no WebSocket message within {timeout:.1f} s ({what})") from None
        except ConnectionClosed:
            self._closed = (self._conn.close_code, self._conn.close_reason or "")
            raise WsClosed(*self._closed, what) from None
        assert isinstance(frame, str), f"the server sent a binary frame: {frame!r}"
        message = json.loads(frame)
        assert isinstance(message, dict), f"a frame that is not a JSON object: {frame}"
        self._record(message)
        return message

    def _record(self, message: JsonObject) -> None:
        self.received.append(message)
        kind = message.get("type")
        resume = self.resume
        if kind == "ping" and self.answer_pings:
            self.send({"type": "pong", "t": message["t"]})
        if resume is None:
            return
        if kind == "welcome":
            resume.events.extend(message["missedEvents"])
            resume.last_seq = message["seq"]
            resume.token = message["token"]["token"]
            resume.adopt_session(message["sessionToken"])
            resume.epoch = message.get("epoch")
        elif kind == "event":
            assert message["event"]["seq"] == message["seq"], f"seq mismatch: {message}"
            resume.events.append(message["event"])
            resume.last_seq = message["seq"]
        elif kind == "token":
            resume.token = message["token"]
            if "sessionToken" in message:
                resume.adopt_session(message["sessionToken"])

    def until(
        self,
        done: Callable[[JsonObject], bool],
        what: str,
        timeout: float = READ_TIMEOUT_S,
        *,
        errors_fail: bool = True,
    ) -> JsonObject:
        """Read until a message satisfies `done`; return it. An `error` on the way fails (unless
        `errors_fail` is off or `done` accepts it)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"timed out after {timeout:.1f} s waiting for {what}")
            message = self.next(left, what)
            if done(message):
                return message
            if errors_fail and message.get("type") == "error":
                raise AssertionError(f"error while waiting for {what}: {message}")

    def expect(self, type_: str, timeout: float = READ_TIMEOUT_S) -> JsonObject:
        """The next message of type `type_` (others on the way are recorded)."""
        return self.until(lambda m: m.get("type") == type_, f"a {type_!r} message", timeout)

    def welcome(self, timeout: float = READ_TIMEOUT_S) -> JsonObject:
        return self.expect("welcome", timeout)

    def ack(self, action_id: str, timeout: float = READ_TIMEOUT_S) -> JsonObject:
        """The `ack` of `action_id`; an `error` for it fails."""

        def answer(message: JsonObject) -> bool:
            return message.get("type") in ("ack", "error") and message.get("actionId") == action_id

        message = self.until(answer, f"the ack of action {action_id}", timeout)
        assert message["type"] == "ack", f"action {action_id} was refused: {message}"
        return message

    def until_seq(self, seq: int, timeout: float = READ_TIMEOUT_S) -> None:
        """Read until the client has seen the event with `seq` (or a later one)."""
        resume = self.resume
        assert resume is not None
        if resume.last_seq is not None and resume.last_seq >= seq:
            return
        self.until(
            lambda _: resume.last_seq is not None and resume.last_seq >= seq,
            f"event seq {seq} (last seen {resume.last_seq})",
            timeout,
        )

    def closed(self, timeout: float = READ_TIMEOUT_S) -> tuple[int | None, str]:
        """Read (and record) until the server closes the connection; its close code and reason.
        `error` messages on the way are kept, not failed on: a refusal comes as one."""
        deadline = time.monotonic() + timeout
        while self._closed is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"the WebSocket was not closed within {timeout:.1f} s")
            try:
                self.next(left, "the close")
            except WsClosed:
                break
        assert self._closed is not None
        return self._closed

    @property
    def is_closed(self) -> bool:
        return self._closed is not None

    def of_type(self, type_: str) -> list[JsonObject]:
        """Every message of `type_` received so far."""
        return [m for m in self.received if m.get("type") == type_]

    def close(self) -> None:
        """Hang up (a client leaving; a broken connection closes without complaint)."""
        self._conn.close()
        if self._closed is None:
            self._closed = (self._conn.close_code, self._conn.close_reason or "")


def open_ws(
    base_url: str, game_id: str, resume: Resume, *, last_seq: int | None = _KEEP
) -> tuple[WsClient, JsonObject]:
    """Connect, say `hello` with `resume`, and wait for the `welcome`; returns both."""
    client = WsClient(base_url, game_id, resume)
    client.hello(last_seq=last_seq)
    return client, client.welcome()
