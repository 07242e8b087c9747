"""`GameClient`: one player's seat in one game over asyncio, kept across any number of drops and
server restarts.

    client = GameClient("http://127.0.0.1:8000", game_id, store=FileTokenStore("seats.json"))
    await client.join("alice")          # once; the seat goes into the store
    await client.connect()              # resumes from the store; returns at the first welcome
    result = await client.act("call")   # an ActionResult, or ActionRejectedError
    async for event in client.events(): # every event in seq order, each once, replays included
        ...
    await client.close()

All decisions (when to dial, resume, resend, give up) are the sans-I/O `ClientSession`'s; this
module only drives it: it feeds it frames and the clock, arms one timer at `wake_at`, opens the
links it asks for, and turns its outputs into futures, a queue and the store.

`state` is the player's view as of the last welcome or resync, with `seq` beside it: the SDK
does not fold events into it (the game's rules live on the server). An application that needs a
fresh view folds the events itself or calls `fetch_state()`.

The seat is saved once per batch of outputs that changed it, before anything else is sent
(`seat_keeper`); the last seq as the application takes events from `events()` (`event_stream`).
The clock, the links and the callbacks are small modules of their own (`clock`, `transport`,
`subscribers`), so that this one reads as the session's driver and the application's API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final, assert_never

from rejoin.action_waiters import ActionWaiters
from rejoin.clock import Clock, LoopClock, WakeTimer
from rejoin.errors import (
    ClientClosedError,
    NotJoinedError,
    SessionFailedError,
)
from rejoin.event_stream import RESYNC, EventStream
from rejoin.http_api import fetch_game_state, join_game
from rejoin.results import ActionResult, ResumeFigures
from rejoin.seat_keeper import SeatKeeper
from rejoin.subscribers import Subscribers
from rejoin.tokens import MemoryTokenStore, SavedSeat, TokenStore
from rejoin.transport import IN_BROWSER, LinkFactory, Links, Transport, check_transport
from rejoin.urls import game_ws_url, server_base
from rejoin_protocol.messages import ActionType
from rejoin_protocol.session import ClientSession, SessionConfig, SessionState
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

if TYPE_CHECKING:
    import httpx

__all__ = ["RESYNC", "GameClient", "PresenceCallback", "StatusCallback"]

StatusCallback = Callable[[StatusChanged], None]
PresenceCallback = Callable[[str, bool], None]
"""`callback(player_id, connected)`: the server's `presence` messages (not sequenced)."""


class GameClient:
    """A seat in game `game_id` on the server at `server_url` (`http://host:port[/prefix]`)."""

    def __init__(
        self,
        server_url: str,
        game_id: str,
        *,
        store: TokenStore | None = None,
        config: SessionConfig | None = None,
        link_factory: LinkFactory | None = None,
        clock: Clock | None = None,
        transport: Transport = "auto",
    ) -> None:
        """A bad `server_url` or `transport` is a ValueError. `transport`: "websocket", "sse"
        (events over Server-Sent Events, actions over HTTP: for networks that block WebSocket
        upgrades) or "auto" (the WebSocket, else SSE; `rejoin.auto_link`); `link_factory`: a
        test's own links instead; `clock`: the loop's, or a test's (`rejoin.clock`)."""
        self.game_id: Final = game_id
        self._base = server_base(server_url)
        self._seat_keeper = SeatKeeper(store if store is not None else MemoryTokenStore())
        self._config = config
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._session: ClientSession | None = None
        self._links = Links(link_factory, check_transport(transport))
        self._connection: int | None = None  # the one last dialled
        self._timer = WakeTimer(self._clock, self._on_timer)
        self._events = EventStream(self._caught_up)
        self._actions = ActionWaiters()
        self._welcomed: asyncio.Future[None] | None = None
        self._failure: SessionFailedError | None = None
        self._status_callbacks: Subscribers[[StatusChanged]] = Subscribers("status")
        self._presence_callbacks: Subscribers[[str, bool]] = Subscribers("presence")
        self._status = SessionState.IDLE
        self._state: dict[str, Any] | None = None
        self._seq: int | None = None
        self._seat: int | None = None
        self._presence: dict[str, bool] = {}
        self._dialled_at: float | None = None
        self._last_resume: ResumeFigures | None = None
        self._closed = False
        self._unwatch_network: Callable[[], None] | None = None

    # --- what the application reads ---------------------------------------------------------

    @property
    def status(self) -> SessionState:
        return self._status

    @property
    def state(self) -> dict[str, Any] | None:
        """The player's view (`gameState`) from the last welcome or resync; see the module doc."""
        return self._state

    @property
    def seq(self) -> int | None:
        """The seq of the last event delivered (or of the last welcome/resync, if later)."""
        return self._seq

    @property
    def seat(self) -> int | None:
        return self._seat

    @property
    def player_id(self) -> str | None:
        saved = self._seat_keeper.seat
        return None if saved is None else saved.player_id

    @property
    def session_token(self) -> str | None:
        """The bearer token for the HTTP API (start a hand, read the events)."""
        saved = self._seat_keeper.seat
        return None if saved is None else saved.session_token

    @property
    def presence(self) -> dict[str, bool]:
        """Who the server said came or went since the last welcome, by player id (`presence`
        messages; the welcome's `gameState` says who was connected then)."""
        return dict(self._presence)

    @property
    def transport(self) -> str | None:
        """What the current connection runs over: "websocket" or "sse" (with `transport="auto"`,
        the one that got through); None while there is none."""
        if self._connection is None:
            return None
        return self._links.transport_of(self._connection)

    @property
    def last_resume(self) -> ResumeFigures | None:
        return self._last_resume

    def on_presence(self, callback: PresenceCallback) -> Callable[[], None]:
        """Call `callback(player_id, connected)` when the server says another player came or
        went (presence is not an event: a view drawn from events alone shows it late)."""
        return self._presence_callbacks.add(callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call `callback` on every status change; returns the function that unsubscribes."""
        return self._status_callbacks.add(callback)

    # --- requests ---------------------------------------------------------------------------

    async def join(
        self, name: str, seat: int | None = None, *, login: str | None = None
    ) -> SavedSeat:
        """Take a seat (HTTP `join`; `login`: the player's JWT) and save it; HttpApiError if not."""
        saved, self._seat = await join_game(self._base, self.game_id, name, seat, login=login)
        self._seat_keeper.store.save(saved)
        self._seat_keeper.seat = saved
        return saved

    async def connect(self) -> None:
        """Resume the seat saved in the store and wait for the first welcome.

        From then on the client reconnects by itself until `close()` or a fatal refusal. Raises
        `NotJoinedError` without a saved seat, `SessionFailedError` if the server refuses it.
        """
        if self._session is not None or self._closed:
            raise RuntimeError("connect() may be called once, before close()")
        saved = self._seat_keeper.store.load(self.game_id)
        if saved is None:
            raise NotJoinedError(f"no saved seat for game {self.game_id}: join() first")
        self._seat_keeper.seat = saved
        self._welcomed = asyncio.get_running_loop().create_future()
        self._session = ClientSession(
            player_id=saved.player_id,
            token=saved.reconnect_token,
            client_id=saved.client_id,
            last_seq=saved.last_seq,
            epoch=saved.epoch,
            config=self._config,
        )
        self._session.start(self._clock.time())
        self._pump()
        if IN_BROWSER:
            # A platform switch: `browser.network` needs Pyodide's `js`, so only a page imports it.
            from rejoin.browser.network import watch_network

            self._unwatch_network = watch_network(self.network_changed)
        await self._welcomed

    async def act(
        self, type: ActionType | str, amount: int | None = None, *, at_seq: int | None = None,
        **fields: Any,
    ) -> ActionResult:  # fmt: skip
        """Request the action `{type, amount?, …fields}` (poker's `amount` is the total bet to;
        another game's fields are keywords: `act("bid", count=3, face=5)`) and wait for the
        answer. While disconnected it waits for the resume; it is resent until answered and
        applied exactly once. Raises `ActionRejectedError`, `SessionFailedError`, or
        `ActionAbandonedError` (closed before an answer)."""
        session = self._started()
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise ClientClosedError("this client is closed; a new GameClient can resume the seat")
        action_id = session.request_action(type, amount, at_seq, fields)
        answer = self._actions.add(action_id)
        self._pump()
        return await answer

    def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events (`{seq, kind, at, data}`) in seq order, each once, from the connect on. Ends
        after `close()`; raises `SessionFailedError` after the events it could still deliver.

        When the server could not replay what was missed (too many events, no last seq, or it
        lost some in a relaxed-durability crash), the stream carries an item of kind `"resync"`
        instead (`RESYNC`): `seq` is where the game stands and `data.gameState` the player's
        view there; the events up to it are not delivered."""
        return self._events.items()

    async def fetch_state(self, *, http: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """The player's current view from the HTTP API (`GET …/state`), without storing it.
        A caller that polls passes its own keep-alive `http` client; by default each call
        uses a short-lived one."""
        if self._seat_keeper.seat is None:
            raise NotJoinedError(f"no seat in game {self.game_id}: join() or connect() first")
        return await fetch_game_state(
            self._base, self.game_id, lambda: self._seat_keeper.require().session_token, http
        )

    def network_changed(self, online: bool) -> None:
        """Tell the client that the network went away (give the connection up now) or came back
        (dial now instead of at the end of the backoff). In a browser the client listens to
        the `online` and `offline` events itself."""
        if self._session is None or self._closed:
            return
        self._session.network_changed(online, self._clock.time())
        self._pump()

    async def close(self) -> None:
        """Close the connection and stop; unanswered actions end with `ActionAbandonedError`.
        The saved seat stays in the store, so a later client can resume it."""
        if self._closed:
            return
        self._closed = True
        if self._unwatch_network is not None:
            self._unwatch_network()
            self._unwatch_network = None
        if self._session is not None:
            self._session.request_close()
            self._pump()
        self._timer.disarm()
        if self._events.taken is not None and self._seat_keeper.seat is not None:
            # What the application took, saved for good.
            self._seat_keeper.remember(last_seq=self._events.taken)
        self._seat_keeper.flush()
        if self._welcomed is not None and not self._welcomed.done():
            # A `connect()` still waiting for its first welcome would otherwise wait for ever.
            self._welcomed.set_exception(ClientClosedError("closed before the first welcome"))
        self._events.end()
        await self._links.wait_ended()

    # --- the link listener ------------------------------------------------------------------

    def link_opened(self, connection: int) -> None:
        self._started().connection_opened(connection, self._clock.time())
        self._pump()

    def link_frame(self, connection: int, frame: str | bytes) -> None:
        self._started().message_received(connection, frame, self._clock.time())
        self._pump()

    def link_lost(self, connection: int, code: int | None, reason: str) -> None:
        self._links.lost(connection)
        self._started().connection_lost(connection, self._clock.time(), code, reason)
        self._pump()

    # --- driving the session ----------------------------------------------------------------

    def _pump(self) -> None:
        """Act on everything the session produced, save the seat, and re-arm the timer."""
        try:
            for output in self._started().outputs():
                self._handle(output)
            self._seat_keeper.flush()
        finally:
            # Whatever failed above, the session's next wake-up must still come.
            self._timer.arm(None if self._session is None else self._session.wake_at)

    def _on_timer(self, now: float) -> None:
        self._started().time_passed(now)
        self._pump()

    def _caught_up(self, seq: int) -> None:
        """The application took every queued event, up to `seq`: resume from there."""
        self._seat_keeper.remember(last_seq=seq)
        self._seat_keeper.flush()

    def _handle(self, output: SessionOutput) -> None:
        match output:
            case Dial(connection=connection):
                self._dialled_at = self._clock.time()
                self._connection = connection
                self._links.dial(game_ws_url(self._base, self.game_id), connection, self)
            case Send(connection=connection, text=text):
                self._links.send(connection, text)
            case CloseTransport(connection=connection, code=code, reason=reason):
                self._links.close(connection, code, reason)
            case ActionAcked() | ActionRejected() | ActionAbandoned():
                self._actions.settle(output, self._failure)
            case StatusChanged():
                self._status = output.current
                self._status_callbacks.call(output)
            case TokenIssued(token=token, session_token=session_token):
                # A token from a `token` message comes without a session token: keep the one held.
                self._seat_keeper.remember(
                    reconnect_token=token,
                    session_token=session_token or self._seat_keeper.require().session_token,
                )
            case Resynced(seq=seq, game_state=game_state):
                self._state, self._seq = game_state, seq
                self._events.resync(seq, game_state)
            case EventDelivered(seq=seq, event=event):
                self._seq = seq
                self._events.deliver(event)
            case Resumed():
                self._on_resumed(output)
            case PresenceChanged(player_id=player_id, connected=connected):
                self._presence[player_id] = connected
                self._presence_callbacks.call(player_id, connected)
            case SessionFailed():
                self._on_failed(output)
            case _:
                assert_never(output)

    def _on_failed(self, failed: SessionFailed) -> None:
        self._failure = SessionFailedError(
            failed.code, failed.message, failed.details, failed.close_code
        )
        self._events.end(self._failure)
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_exception(self._failure)

    def _on_resumed(self, resumed: Resumed) -> None:
        now = self._clock.time()
        if resumed.resync:
            # Until the application takes the resync, what it holds may be a history the server
            # lost: a restart before then must ask for a resync again, not resume from there.
            self._seat_keeper.remember(last_seq=None, epoch=resumed.epoch)
        else:
            self._seat_keeper.remember(epoch=resumed.epoch)
        self._state, self._seat = resumed.game_state, resumed.seat
        self._presence.clear()  # the welcome's view is the new baseline
        self._seq = max(self._seq or 0, resumed.seq)
        self._last_resume = ResumeFigures.of(
            resumed,
            since_dial=now - (self._dialled_at if self._dialled_at is not None else now),
            previous=self._last_resume,
            transport=self.transport,
        )
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_result(None)

    # --- plumbing ---------------------------------------------------------------------------

    def _started(self) -> ClientSession:
        if self._session is None:
            raise RuntimeError("connect() first")
        return self._session
