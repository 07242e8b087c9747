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
module only drives it: it feeds it frames and the loop's clock, arms one timer at `wake_at`,
opens the `WebSocketLink`s it asks for, and turns its outputs into futures, a queue and the store.

`state` is the player's view as of the last welcome or resync, with `seq` beside it: the SDK
does not fold events into it (the game's rules live on the server). An application that needs a
fresh view folds the events itself or calls `fetch_state()`.

Tokens are saved once per batch of outputs that brought one, before anything else is sent. The
last seq is saved as the application takes events from `events()`, each time it has caught up
with the queue: a client that dies resumes from what its application had taken (events still
queued are replayed, and at most a few taken since the last save come again). An application
that must not see an event twice across its own crashes keeps its own cursor.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final, assert_never
from urllib.parse import quote

from rejoin.errors import (
    ActionAbandonedError,
    ActionRejectedError,
    ClientClosedError,
    HttpApiError,
    NotJoinedError,
    SessionFailedError,
)
from rejoin.http_api import get_json, post_json
from rejoin.results import ActionResult, ResumeFigures
from rejoin.tokens import MemoryTokenStore, SavedSeat, TokenStore
from rejoin.transport import IN_BROWSER, Link, LinkFactory, default_link_factory
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

__all__ = ["GameClient", "PresenceCallback", "StatusCallback"]

log = logging.getLogger(__name__)

RESYNC: Final = "resync"
"""The `kind` of the item `events()` yields for a resync (no game event has this kind)."""

StatusCallback = Callable[[StatusChanged], None]
PresenceCallback = Callable[[str, bool], None]
"""`callback(player_id, connected)`: the server's `presence` messages (not sequenced)."""
_END: Final = object()  # the end of `events()`: closed, or failed


class GameClient:
    """A seat in game `game_id` on the server at `server_url` (`http://host:port`)."""

    def __init__(
        self,
        server_url: str,
        game_id: str,
        *,
        store: TokenStore | None = None,
        config: SessionConfig | None = None,
        link_factory: LinkFactory | None = None,
    ) -> None:
        """`link_factory` picks the WebSocket implementation; by default the `websockets`
        library under CPython and the browser's `WebSocket` under Pyodide."""
        self.game_id: Final = game_id
        self._base = server_url.rstrip("/")
        self._store = store if store is not None else MemoryTokenStore()
        self._config = config
        self._session: ClientSession | None = None
        self._saved: SavedSeat | None = None
        self._dirty = False
        self._link_factory = link_factory
        self._links: dict[int, Link] = {}
        self._running_links: set[asyncio.Future[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._events: asyncio.Queue[dict[str, Any] | object] = asyncio.Queue()
        self._actions: dict[str, asyncio.Future[ActionResult]] = {}
        self._welcomed: asyncio.Future[None] | None = None
        self._store_failing = False
        self._taken: int | None = None  # the seq of the last item the application took
        self._failure: SessionFailedError | None = None
        self._callbacks: list[StatusCallback] = []
        self._status = SessionState.IDLE
        self._state: dict[str, Any] | None = None
        self._seq: int | None = None
        self._seat: int | None = None
        self._presence: dict[str, bool] = {}
        self._presence_callbacks: list[PresenceCallback] = []
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
        return None if self._saved is None else self._saved.player_id

    @property
    def session_token(self) -> str | None:
        """The bearer token for the HTTP API (start a hand, read the events)."""
        return None if self._saved is None else self._saved.session_token

    @property
    def presence(self) -> dict[str, bool]:
        """Who the server said came or went since the last welcome, by player id (`presence`
        messages; the welcome's `gameState` says who was connected then)."""
        return dict(self._presence)

    @property
    def last_resume(self) -> ResumeFigures | None:
        return self._last_resume

    def on_presence(self, callback: PresenceCallback) -> Callable[[], None]:
        """Call `callback(player_id, connected)` when the server says another player came or
        went (presence is not an event: a view drawn from events alone shows it late)."""
        self._presence_callbacks.append(callback)
        return lambda: _discard(self._presence_callbacks, callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call `callback` on every status change; returns the function that unsubscribes."""
        self._callbacks.append(callback)
        return lambda: _discard(self._callbacks, callback)

    # --- requests ---------------------------------------------------------------------------

    async def join(self, name: str, seat: int | None = None) -> SavedSeat:
        """Take a seat (HTTP `join`) and save it in the store; `HttpApiError` on refusal."""
        body: dict[str, Any] = {"name": name}
        if seat is not None:
            body["seat"] = seat
        joined = await post_json(self._url(f"/api/game/{quote(self.game_id)}/join"), body)
        saved = SavedSeat(
            game_id=self.game_id,
            player_id=joined["playerId"],
            client_id=uuid.uuid4().hex,
            reconnect_token=joined["connectionToken"]["token"],
            session_token=joined["sessionToken"],
        )
        self._store.save(saved)
        self._saved = saved
        self._seat = int(joined["seat"])
        return saved

    async def connect(self) -> None:
        """Resume the seat saved in the store and wait for the first welcome.

        From then on the client reconnects by itself until `close()` or a fatal refusal. Raises
        `NotJoinedError` without a saved seat, `SessionFailedError` if the server refuses it.
        """
        if self._session is not None or self._closed:
            raise RuntimeError("connect() may be called once, before close()")
        saved = self._store.load(self.game_id)
        if saved is None:
            raise NotJoinedError(f"no saved seat for game {self.game_id}: join() first")
        self._saved = saved
        loop = asyncio.get_running_loop()
        self._welcomed = loop.create_future()
        self._session = ClientSession(
            player_id=saved.player_id,
            token=saved.reconnect_token,
            client_id=saved.client_id,
            last_seq=saved.last_seq,
            epoch=saved.epoch,
            config=self._config,
        )
        self._session.start(loop.time())
        self._pump()
        if IN_BROWSER:
            from rejoin.browser.network import watch_network

            self._unwatch_network = watch_network(self.network_changed)
        await self._welcomed

    async def act(
        self, type: ActionType, amount: int | None = None, *, at_seq: int | None = None
    ) -> ActionResult:
        """Request an action and wait for the server's answer. While disconnected it waits for
        the resume; it is resent until answered and applied exactly once.

        Raises `ActionRejectedError`, `SessionFailedError`, or `ActionAbandonedError` (closed
        before an answer)."""
        session = self._started()
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise ClientClosedError("this client is closed; a new GameClient can resume the seat")
        action_id = session.request_action(type, amount, at_seq)
        answer: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._actions[action_id] = answer
        self._pump()
        return await answer

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events (`{seq, kind, at, data}`) in seq order, each once, from the connect on. Ends
        after `close()`; raises `SessionFailedError` after the events it could still deliver.

        When the server could not replay what was missed (too many events, no last seq, or it
        lost some in a relaxed-durability crash), the stream carries an item of kind `"resync"`
        instead (`RESYNC`): `seq` is where the game stands and `data.gameState` the player's
        view there; the events up to it are not delivered."""
        while True:
            item = await self._events.get()
            if item is _END:
                self._events.put_nowait(_END)  # for any other iterator
                if self._failure is not None:
                    raise self._failure
                return
            assert isinstance(item, dict)
            self._taken = item["seq"]
            if self._events.empty():
                # Caught up: what the application has taken is what a restarted client resumes
                # from (saved here, not when queued: a crash must not lose events still queued;
                # at most it repeats some the application took since the last save).
                self._remember(last_seq=item["seq"])
                if self._saved is not None:
                    self._save()
            yield item

    async def fetch_state(self, *, http: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """The player's current view from the HTTP API (`GET …/state`), without storing it.
        A caller that polls passes its own keep-alive `http` client; by default each call
        uses a short-lived one."""
        if self._saved is None:
            raise NotJoinedError(f"no seat in game {self.game_id}: join() or connect() first")
        url = self._url(f"/api/game/{quote(self.game_id)}/state")
        session = self._saved.session_token
        try:
            body = await get_json(url, bearer=session, http=http)
        except HttpApiError as error:
            # A welcome that came while the call was out replaced the session token (each
            # resume gives the seat a new claim): ask again with the new one.
            if error.code != "token_reused" or self._saved.session_token == session:
                raise
            body = await get_json(url, bearer=self._saved.session_token, http=http)
        state: dict[str, Any] = body["gameState"]
        return state

    def network_changed(self, online: bool) -> None:
        """Tell the client that the network went away (give the connection up now) or came back
        (dial now instead of at the end of the backoff). In a browser the client listens to
        the `online` and `offline` events itself."""
        if self._session is None or self._closed:
            return
        self._session.network_changed(online, self._now())
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
        self._disarm_timer()
        if self._taken is not None and self._saved is not None:
            self._remember(last_seq=self._taken)  # what the application took, saved for good
        if self._dirty and self._saved is not None:
            self._save()
        if self._welcomed is not None and not self._welcomed.done():
            # A `connect()` still waiting for its first welcome would otherwise wait for ever.
            self._welcomed.set_exception(ClientClosedError("closed before the first welcome"))
        self._events.put_nowait(_END)
        if self._running_links:
            await asyncio.gather(*self._running_links, return_exceptions=True)

    # --- the WebSocketLink listener ---------------------------------------------------------

    def link_opened(self, connection: int) -> None:
        self._started().connection_opened(connection, self._now())
        self._pump()

    def link_frame(self, connection: int, frame: str | bytes) -> None:
        self._started().message_received(connection, frame, self._now())
        self._pump()

    def link_lost(self, connection: int, code: int | None, reason: str) -> None:
        self._links.pop(connection, None)
        self._started().connection_lost(connection, self._now(), code, reason)
        self._pump()

    # --- driving the session ----------------------------------------------------------------

    def _pump(self) -> None:
        """Act on everything the session produced, save the seat, and re-arm the timer."""
        try:
            for output in self._started().outputs():
                self._handle(output)
            if self._dirty and self._saved is not None:
                self._save()
        finally:
            # Whatever failed above, the session's next wake-up must still come.
            self._arm_timer()

    def _save(self) -> None:
        """Save the seat. A store that fails (a full disk, a corrupt file, a browser quota) does
        not stop the game: the save is tried again at the next change, and the failure is
        logged once per streak. Until it succeeds, a restarted client would resume from older
        tokens (which the server still honours for this client id while they are unused)."""
        assert self._saved is not None
        try:
            self._store.save(self._saved)
        except Exception:
            if not self._store_failing:
                log.exception("the token store failed; saving again at the next change")
            self._store_failing = True
            return
        self._dirty = False
        self._store_failing = False

    def _handle(self, output: SessionOutput) -> None:
        match output:
            case Dial() | Send() | CloseTransport():
                self._drive_transport(output)
            case ActionAcked() | ActionRejected() | ActionAbandoned():
                self._settle_action(output)
            case StatusChanged():
                self._on_status(output)
            case TokenIssued(token=token, session_token=session_token):
                # A token from a `token` message comes without a session token: keep the one held.
                self._remember(
                    reconnect_token=token,
                    session_token=session_token or self._saved_seat().session_token,
                )
            case Resynced(seq=seq, game_state=game_state):
                self._state, self._seq = game_state, seq
                # Never a silent skip: the stream says that the events up to `seq` were not
                # replayed and that `gameState` is where the game stands now.
                self._events.put_nowait(
                    {"seq": seq, "kind": RESYNC, "at": None, "data": {"gameState": game_state}}
                )
            case EventDelivered(seq=seq, event=event):
                self._seq = seq
                self._events.put_nowait(event)
            case Resumed():
                self._on_resumed(output)
            case PresenceChanged(player_id=player_id, connected=connected):
                self._presence[player_id] = connected
                for presence_callback in list(self._presence_callbacks):
                    try:
                        presence_callback(player_id, connected)
                    except Exception:  # an application bug must not stop the session
                        log.exception("presence callback %r failed", presence_callback)
            case SessionFailed():
                self._on_failed(output)
            case _:
                assert_never(output)

    def _drive_transport(self, output: Dial | Send | CloseTransport) -> None:
        match output:
            case Dial(connection=connection):
                self._dialled_at = self._now()
                if self._link_factory is None:
                    self._link_factory = default_link_factory()
                link = self._link_factory(self._ws_url(), connection, self)
                self._links[connection] = link
                self._running_links.add(link.task)
                link.task.add_done_callback(self._link_done)
            case Send(connection=connection, text=text):
                if (current := self._links.get(connection)) is not None:
                    current.send(text)
            case CloseTransport(connection=connection, code=code, reason=reason):
                if (closing := self._links.pop(connection, None)) is not None:
                    closing.close(code, reason)

    def _settle_action(self, output: ActionAcked | ActionRejected | ActionAbandoned) -> None:
        answer = self._actions.pop(output.action_id, None)
        if answer is None or answer.done():
            return  # requested by nobody waiting any more (the act() was cancelled)
        match output:
            case ActionAcked():
                answer.set_result(
                    ActionResult(output.action_id, output.seq, output.duplicate, output.durable)
                )
            case ActionRejected():
                answer.set_exception(
                    ActionRejectedError(
                        output.action_id, output.code, output.message, output.details
                    )
                )
            case ActionAbandoned():
                answer.set_exception(
                    self._failure or ActionAbandonedError(output.action_id, output.sent)
                )

    def _on_status(self, change: StatusChanged) -> None:
        self._status = change.current
        for callback in list(self._callbacks):
            try:
                callback(change)
            except Exception:  # an application bug must not stop the session
                log.exception("status callback %r failed", callback)

    def _on_failed(self, failed: SessionFailed) -> None:
        self._failure = SessionFailedError(
            failed.code, failed.message, failed.details, failed.close_code
        )
        self._events.put_nowait(_END)
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_exception(self._failure)

    def _on_resumed(self, resumed: Resumed) -> None:
        now = self._now()
        if resumed.resync:
            # Until the application takes the resync, what it holds may be a history the server
            # lost: a restart before then must ask for a resync again, not resume from there.
            self._remember(last_seq=None, epoch=resumed.epoch)
        else:
            self._remember(epoch=resumed.epoch)
        self._state, self._seat = resumed.game_state, resumed.seat
        self._presence.clear()  # the welcome's view is the new baseline
        self._seq = max(self._seq or 0, resumed.seq)
        self._last_resume = ResumeFigures(
            seq=resumed.seq,
            resync=resumed.resync,
            missed=resumed.missed,
            outage=resumed.offline_for,
            time_to_resume=now - (self._dialled_at if self._dialled_at is not None else now),
        )
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_result(None)

    def _remember(self, **changes: Any) -> None:
        self._saved = self._saved_seat().with_changes(**changes)
        self._dirty = True

    def _saved_seat(self) -> SavedSeat:
        if self._saved is None:
            raise RuntimeError("no seat: join() or connect() first")
        return self._saved

    def _arm_timer(self) -> None:
        wake_at = None if self._session is None else self._session.wake_at
        if wake_at == self._timer_at:
            return
        self._disarm_timer()
        if wake_at is not None:
            # call_later, not call_at: Pyodide's loop refuses a time already past ("Can't
            # schedule in the past"), which a busy page reaches after a short backoff draw.
            loop = asyncio.get_running_loop()
            delay = max(0.0, wake_at - loop.time())
            self._timer = loop.call_later(delay, self._on_timer, wake_at)
            self._timer_at = wake_at

    def _disarm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, None

    def _on_timer(self, wake_at: float) -> None:
        self._timer, self._timer_at = None, None
        # The loop may run a handle up to its clock resolution early; report at least the
        # deadline so that the session fires instead of asking for the same wake-up again.
        self._started().time_passed(max(self._now(), wake_at))
        self._pump()

    def _link_done(self, task: asyncio.Future[None]) -> None:
        self._running_links.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("WebSocket link failed", exc_info=error)

    # --- plumbing ---------------------------------------------------------------------------

    def _started(self) -> ClientSession:
        if self._session is None:
            raise RuntimeError("connect() first")
        return self._session

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _url(self, path: str) -> str:
        return self._base + path

    def _ws_url(self) -> str:
        scheme, rest = self._base.split("://", 1)
        ws_scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
        return f"{ws_scheme}://{rest}/api/game/{quote(self.game_id)}/ws"


def _discard(callbacks: list[Any], callback: Any) -> None:
    """Unsubscribing twice is harmless."""
    if callback in callbacks:
        callbacks.remove(callback)
