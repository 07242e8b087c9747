"""One welcomed WebSocket: events out in seq order, actions in, the heartbeat and fresh tokens.

Two tasks per connection, and either ending ends the other:

- the reader takes the client's frames: actions (run one at a time and answered with `ack` or
  `error` through the same queue as the events, so an ack never overtakes the events of its own
  action), `ping` (answered with `pong`) and `pong`. A frame that is not a message, or a second
  `hello`, closes the connection with 4400; a bad field in an `action` is answered with `error`
  and the connection stays.
- the writer drains the subscriber's queue onto the socket. Events were encoded once for every
  reader with the same visibility (`live.Outgoing`); here they are only wrapped. Every ping
  interval it sends `ping`, closes the connection (4408) if the client has been silent past the
  idle timeout, and, once half of the current reconnect token's life is gone, starts a task that
  rotates it and queues the new one (`token`), so a connected client is never stranded with an
  expired token. A watchdog ends a channel whose send has waited past the idle timeout (a client
  that stopped reading), the welcome's included.

The subscriber's `end` is how the rest of the server ends a channel: shutdown and reload (1012),
a newer connection for the same seat (4409), a reader too far behind (1013). The client resumes
from its last seq on a new connection in every case but 4409.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from rejoin_protocol.errors import (
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SUPERSEDED,
    ErrorCode,
)
from rejoin_protocol.messages import (
    Ack,
    Action,
    Error,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    TokenMessage,
    Welcome,
    decode_client,
    encode,
    is_ident,
    wire,
)
from rejoin_server.api.auth import session_token
from rejoin_server.api.bodies import MAX_ACTION_ID, MAX_ACTION_TYPE, storable_fields
from rejoin_server.api.context import Services
from rejoin_server.api.fields import invalid
from rejoin_server.api.games import scoped_action_id
from rejoin_server.errors import CodedError
from rejoin_server.games.base import Act
from rejoin_server.host.live import (
    END_HOLE,
    END_SLOW,
    LiveGame,
    Outgoing,
    PresenceNote,
    Subscriber,
)
from rejoin_server.timefmt import iso_ms
from rejoin_server.tokens.service import IssuedToken

log = logging.getLogger(__name__)

# A token is rotated once this much of its lifetime has passed; a failed rotation is tried again
# after a ping interval, doubling up to this.
TOKEN_REFRESH_AT = 0.5
MAX_REFRESH_BACKOFF_S = 60.0


class _Gone(Exception):
    """The client's socket is closed; nothing more can be sent."""


async def receive_frame(websocket: WebSocket) -> str | bytes:
    """The next text or binary frame; raises WebSocketDisconnect when the client is gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", CLOSE_NORMAL))
    text = message.get("text")
    if text is not None:
        return str(text)
    data = message.get("bytes")
    return bytes(data) if data is not None else b""


class Channel:
    def __init__(
        self,
        websocket: WebSocket,
        svc: Services,
        live: LiveGame,
        subscriber: Subscriber,
        *,
        client_id: str,
        token: IssuedToken,
        sent: int,
    ) -> None:
        assert subscriber.player_id is not None
        self._ws = websocket
        self._svc = svc
        self._live = live
        self._subscriber = subscriber
        self._player_id = subscriber.player_id
        self._client_id = client_id
        self._token = token
        # When the session token the client holds expires (the welcome's, then each pushed one).
        self._session_expires_at = svc.host.clock() + svc.settings.session_ttl_ms
        self._sent = sent  # the last seq sent (the welcome's seq at first)
        self._loop = asyncio.get_running_loop()
        self._heard = self._loop.time()  # when the client last sent anything
        self._sends: list[float] = []  # when each send now waiting for the socket began
        self._interval_s = svc.settings.ping_interval_ms / 1000
        self._idle_s = svc.settings.idle_timeout_ms / 1000
        self._watchdog: asyncio.TimerHandle | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._refresh_after = 0.0  # loop time before which no refresh is tried (backoff)
        self._refresh_backoff = self._interval_s
        self._closed = False

    async def run(self, welcome: Welcome) -> None:
        """Send the welcome, then serve until either side ends; the seat is released after."""
        svc = self._svc
        svc.metrics.websockets.inc()
        try:
            # The writer sends the welcome first, under the watchdog like any other send.
            writer = self._loop.create_task(self._write(orjson.dumps(wire(welcome)).decode()))
            tasks = [self._loop.create_task(self._read()), writer]
            self._watchdog = self._loop.call_later(self._interval_s, self._watch, writer)
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._watchdog.cancel()
                if self._refresh is not None:
                    tasks.append(self._refresh)
                for task in tasks:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(result, _Gone):
                    log.error(
                        "WebSocket of player %s in game %s failed: %r",
                        self._player_id,
                        self._live.game_id,
                        result,
                        exc_info=result,
                    )
                    await self._close(CLOSE_INTERNAL, "internal error")
        finally:
            svc.host.unsubscribe(self._live, self._subscriber)
            svc.metrics.websockets.dec()

    def _watch(self, writer: asyncio.Task[None]) -> None:
        """A client that stops reading fills its TCP window, and then a send waits forever: the
        writer never gets back to its checks. Every ping interval, look whether one send has
        waited longer than the idle timeout, and if so give up on the client (cancelling the
        writer ends the channel; the client resumes from its last seq)."""
        if self._sends and self._loop.time() - min(self._sends) > self._idle_s:
            self._svc.metrics.readers_dropped.labels("slow").inc()
            writer.cancel()
            return
        self._watchdog = self._loop.call_later(self._interval_s, self._watch, writer)

    # --- reading -------------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                frame = await receive_frame(self._ws)
            except WebSocketDisconnect:
                return
            self._heard = self._loop.time()
            try:
                message = decode_client(frame)
            except ProtocolError as exc:
                # Not a message at all, or a `hello` (bad or not, it is out of place here).
                if exc.field is None or exc.field == "type" or exc.field.startswith("hello."):
                    await self._fail(exc.message)
                    return
                self._reply(Error(ErrorCode.INVALID_REQUEST.value, exc.message, _action_id(frame)))
                continue
            if isinstance(message, Action):
                await self._act(message)
            elif isinstance(message, Ping):
                self._reply(Pong(message.t))
            elif isinstance(message, Hello):
                await self._fail(
                    "`hello` was already answered on this connection; open a new connection to "
                    "resume again."
                )
                return
            # A `pong` needs no answer: hearing it is what it is for.

    async def _act(self, message: Action) -> None:
        action_id = message.action_id
        if len(action_id) > MAX_ACTION_ID:
            self._reply(
                Error(
                    ErrorCode.INVALID_REQUEST.value,
                    # No actionId: a cut one would name an action the client never sent.
                    f"actionId must be at most {MAX_ACTION_ID} characters.",
                )
            )
            return
        svc = self._svc
        started = time.perf_counter()
        body = message.action
        try:
            if len(body.type) > MAX_ACTION_TYPE:
                raise invalid(f"action.type must be at most {MAX_ACTION_TYPE} characters.")
            outcome = await svc.host.execute(
                self._live.game_id,
                Act(self._player_id, body.type, storable_fields(body.data)),
                action_id=scoped_action_id(self._player_id, action_id),
                at_seq=message.at_seq,
            )
        except CodedError as exc:
            svc.host.note_failure(exc)
            self._reply(Error(exc.code.value, exc.message, action_id, exc.details or None))
            return
        svc.metrics.action_seconds.observe(time.perf_counter() - started)
        self._reply(Ack(action_id, outcome.seq, outcome.duplicate, outcome.durable))

    def _reply(self, message: Ack | Error | Pong) -> None:
        """Queue an answer behind the events already queued (a full queue ends the channel)."""
        self._subscriber.push(encode(message))

    async def _fail(self, message: str) -> None:
        """A protocol error: say what, close with 4400 (the reader's own send and close: the
        client is at fault, and whatever the writer still has queued no longer matters)."""
        with contextlib.suppress(_Gone):
            await self._send(encode(Error(ErrorCode.INVALID_REQUEST.value, message)))
        await self._close(CLOSE_PROTOCOL_ERROR, "protocol error")

    # --- writing -------------------------------------------------------------------------------

    async def _write(self, welcome: str) -> None:
        await self._send(welcome)
        interval, idle = self._interval_s, self._idle_s
        subscriber = self._subscriber
        queue = subscriber.queue
        next_beat = self._loop.time() + interval
        while True:
            if subscriber.end is not None:
                await self._end(subscriber.end)
                return
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                item = None
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the item does, and `run` would wait for this task in vain.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_beat - self._loop.time())):
                        item = await queue.get()
            if self._loop.time() >= next_beat:
                if self._loop.time() - self._heard > idle:
                    self._svc.metrics.readers_dropped.labels("heartbeat").inc()
                    await self._close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout")
                    return
                await self._send(encode(Ping(self._svc.host.clock())))
                next_beat = self._loop.time() + interval
                self._maybe_refresh_token()
            if item is None or subscriber.end is not None:
                continue  # woken to look at `end` (nothing goes out past it), or a heartbeat
            if isinstance(item, Outgoing):
                seq = item.event.seq
                if seq <= self._sent:
                    continue  # already in the welcome
                if seq != self._sent + 1:
                    # A hole would be a lost event: end, and the client resumes from `_sent`.
                    await self._close(*END_HOLE)
                    return
                data = item.json_for(self._live.state, self._player_id)
                await self._send(f'{{"type":"event","seq":{seq},"event":{data}}}')
                self._sent = seq
            elif isinstance(item, PresenceNote):
                await self._send(item.frame)
            else:
                await self._send(item)

    async def _end(self, end: tuple[int, str]) -> None:
        if end is END_SLOW:
            self._svc.metrics.readers_dropped.labels("slow").inc()
        elif end[0] == CLOSE_SUPERSEDED:
            self._svc.metrics.readers_dropped.labels("superseded").inc()
        await self._close(*end)

    def _maybe_refresh_token(self) -> None:
        """Once half the reconnect token's life (or the session token's) is gone, rotate them in
        a task of its own: a store that is slow or down must not hold up the events (it is
        retried with backoff)."""
        svc = self._svc
        if self._refresh is not None or self._loop.time() < self._refresh_after:
            return
        settings = svc.settings
        due = min(
            self._token.expires_at - settings.token_ttl_ms * TOKEN_REFRESH_AT,
            self._session_expires_at - settings.session_ttl_ms * TOKEN_REFRESH_AT,
        )
        if svc.host.clock() < due:
            return
        self._refresh = self._loop.create_task(self._refresh_token())

    async def _refresh_token(self) -> None:
        """Use the current token (as a reconnect would, with this client's id, keeping the seat's
        claim) and push its successor, with a fresh session token, behind the events already
        queued. Should that `token` message be lost, the client's older token still leads to the
        successor, for the same clientId, while the successor is unused and the older token
        unexpired (the winner-retrying rule of docs/protocol.md, "Resume rules")."""
        svc = self._svc
        try:
            fresh = await svc.tokens.use(
                self._token.claims, self._client_id, svc.host.clock(), reclaim=False
            )
        except CodedError as exc:
            # A token used elsewhere means another connection has taken (or is taking) the seat:
            # it closes this one. Anything else is tried again, later each time.
            svc.host.note_failure(exc)
            log.info("token refresh for player %s: %s", self._player_id, exc)
            self._refresh_after = self._loop.time() + self._refresh_backoff
            self._refresh_backoff = min(self._refresh_backoff * 2, MAX_REFRESH_BACKOFF_S)
            return
        finally:
            self._refresh = None
        self._token = fresh
        self._refresh_backoff = self._interval_s
        self._session_expires_at = svc.host.clock() + svc.settings.session_ttl_ms
        session = session_token(svc, self._live, self._player_id)
        self._subscriber.push(
            encode(TokenMessage(fresh.token, iso_ms(fresh.expires_at), session_token=session))
        )

    # --- the socket ----------------------------------------------------------------------------

    async def _send(self, text: str) -> None:
        if self._closed:
            raise _Gone
        started = self._loop.time()
        self._sends.append(started)  # the reader's `_fail` may send while the writer does
        try:
            await self._ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._closed = True
            raise _Gone from None
        finally:
            self._sends.remove(started)

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._ws.close(code, reason)


def _action_id(frame: str | bytes) -> str | None:
    """The actionId of a frame that failed to decode, if it has a usable one, so that the
    `error` can name the action it refuses."""
    try:
        value = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        action_id = value.get("actionId")
        if is_ident(action_id) and len(action_id) <= MAX_ACTION_ID:
            return action_id
    return None
