"""The demo table page's controller: the Python SDK playing one seat in a browser tab.

`client_sdk/web/static/boot.mjs` boots Pyodide, unpacks the SDK wheels and calls `start(gameId,
ui, ownsTab)`. From then on this module decides everything and the page's JavaScript only draws:
`ui` (`table-ui.js`) takes JSON strings and plain values, and calls back into `Handlers` for the
join form and the buttons.

- The seat lives in `localStorage` (`BrowserTokenStore`), so a reload resumes it.
- The view is the player's `gameState`: from each welcome, and fetched again (`GET …/state`)
  after events arrive, one fetch at a time, so the page never folds the game's rules itself.
- `#status` follows the session: `connecting` until the first welcome, `connected`,
  `reconnecting` while a lost connection is being resumed, `closed` after a fatal refusal.
  Those words and the message of each fatal refusal are in `table_text`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Final
from urllib.parse import parse_qs

from js import location  # type: ignore[import-not-found]  # Pyodide only
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from rejoin.browser.table_text import ANOTHER_TAB, FATAL_MESSAGES, fatal_message, status_of
from rejoin.client import RESYNC, GameClient
from rejoin.errors import (
    ActionRejectedError,
    HttpApiError,
    RejoinError,
    SessionFailedError,
)
from rejoin.http_api import post_json
from rejoin.tokens import BrowserTokenStore, TokenStoreCorrupt
from rejoin.urls import game_url, server_base
from rejoin_protocol.session import SessionState
from rejoin_protocol.session_outputs import StatusChanged

# FATAL_MESSAGES: kept importable from here, where the page's words were before `table_text`.
__all__ = ["FATAL_MESSAGES", "Handlers", "TablePage", "start"]

log = logging.getLogger(__name__)

FETCH_RETRY_S: Final = 0.5

_tasks: set[asyncio.Task[Any]] = set()


def spawn(coroutine: Any, what: str) -> None:
    """Run `coroutine` as a task that is kept alive and whose failure reaches the log (never
    `asyncio.run` in Pyodide: the browser's event loop is already running)."""
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        _tasks.discard(finished)
        if not finished.cancelled() and (error := finished.exception()) is not None:
            log.error("%s failed", what, exc_info=error)

    task.add_done_callback(done)


def requested_seat(query: str) -> int | None:
    """The seat a lobby link asks for (`?seat=N`), if any: the server says if it is taken."""
    values = parse_qs(query.lstrip("?")).get("seat", [])
    if not values or not values[0].isascii() or not values[0].isdecimal():
        return None
    return int(values[0])


def number_or_none(value: Any) -> int | None:
    """A JS number as an int; JS null (`jsnull`), undefined (None) or anything else as None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


class TablePage:
    """One tab's seat at table `game_id`, drawn through `ui`."""

    def __init__(self, game_id: str, ui: Any, *, server_url: str | None = None) -> None:
        self.game_id: Final = game_id
        self._ui = ui
        # The app's root, which boot.mjs passes: under a prefix when a host app mounts rejoin.
        self._base = server_base(server_url if server_url is not None else str(location.origin))
        self._store = BrowserTokenStore()
        self._client: GameClient | None = None
        self._welcomed = False
        self._view_seq = -1  # the seq of the view drawn last
        self._applied: int | None = None  # the seq of the last event taken from the stream
        self._refreshing = False
        self._refresh_again = False
        self._resuming_saved_seat = False
        self._resume_from: int | None = None  # the saved seat's last seq, until events arrive
        self._view: dict[str, Any] | None = None  # the view drawn last
        self._joining = False
        self._epoch = 0  # counts authoritative draws (welcomes, resyncs)
        self._handlers = create_proxy(Handlers(self))
        ui.bind(self._handlers)

    # --- entry points ---------------------------------------------------------------------

    async def run(self) -> None:
        """Resume the saved seat, or show the join form."""
        try:
            saved = self._store.load(self.game_id)
        except TokenStoreCorrupt:
            self.fatal("token_invalid", "the saved seat is not readable")
            return
        if saved is None:
            self._ui.setStatus("connecting", None)
            self._ui.showJoin(None)
            return
        self._resuming_saved_seat = True
        self._resume_from = saved.last_seq
        await self._play()

    async def join(self, name: str) -> None:
        if self._joining or self._client is not None:
            return  # a second click while the first join is on its way: one seat per browser
        self._joining = True
        try:
            await self._join(name)
        finally:
            self._joining = False

    async def _join(self, name: str) -> None:
        client = self._new_client()
        try:
            await client.join(name.strip(), seat=requested_seat(str(location.search)))
        except HttpApiError as error:
            if error.code in ("game_completed", "game_not_found"):
                # No seat was saved here, so there is none to forget.
                self.fatal(error.code, error.message, can_forget=False)
            else:
                self._ui.showJoin(error.message)
            return
        except ConnectionError as error:
            self._ui.showJoin(f"The server did not answer ({error}); try again.")
            return
        except Exception as error:  # e.g. localStorage refused the seat (quota, privacy mode)
            log.exception("joining failed")
            self._ui.showJoin(
                f"Joining failed ({type(error).__name__}: {error}). If this browser cannot "
                "keep data for this site (private mode, full storage), the seat cannot be kept."
            )
            return
        await self._play(client)

    async def act(self, type: Any, amount: int | None, at_seq: int | None) -> None:
        """`at_seq`: the seq of the view whose button was clicked. A click that reaches the
        server after the game moved on is refused (`stale_state`), never applied to a later
        turn; the page then fetches the view again."""
        if self._client is None:
            return
        try:
            await self._client.act(type, amount, at_seq=at_seq)
        except ActionRejectedError as error:
            self._ui.showMessage(error.message)
            if error.code == "stale_state":
                self._refresh()
        except RejoinError as error:
            self._ui.showMessage(str(error))

    async def start_hand(self) -> None:
        if self._client is None or self._client.session_token is None:
            return
        try:
            await post_json(
                game_url(self._base, self.game_id, "start"),
                None,
                bearer=self._client.session_token,
            )
        except (HttpApiError, ConnectionError) as error:
            self._ui.showMessage(getattr(error, "message", str(error)))

    def forget(self) -> None:
        """Drop the saved seat and start over with the join form."""
        self._store.delete(self.game_id)
        location.reload()

    # --- the seat ---------------------------------------------------------------------------

    def _new_client(self) -> GameClient:
        client = GameClient(self._base, self.game_id, store=self._store)
        client.on_status(self._on_status)
        client.on_presence(self._on_presence)
        return client

    async def _play(self, client: GameClient | None = None) -> None:
        self._client = client = client if client is not None else self._new_client()
        self._ui.setStatus("connecting", None)
        try:
            await client.connect()
        except SessionFailedError as failure:
            self._failed(failure)
            return
        try:
            async for event in client.events():
                self._applied = int(event["seq"])
                self._ui.appendEvent(json.dumps(event))
                if event["kind"] == RESYNC:
                    self._draw(event["data"]["gameState"], authoritative=True)
                elif self._applied > self._view_seq:
                    self._refresh()
                self._ui.setStatus(status_of(client.status, self._welcomed), self._applied)
        except SessionFailedError as failure:
            self._failed(failure)

    def _on_status(self, change: StatusChanged) -> None:
        if change.previous is SessionState.CONNECTED:
            # Until the next welcome nothing is drawn again: presence only comes while
            # connected, and the welcome's view replaces whatever was on the table.
            self._view = None
        if change.current is SessionState.CONNECTED:
            # The welcome's outputs (its view, its resume figures) are handled after this
            # callback, in the same turn: draw them on the next one.
            asyncio.get_running_loop().call_soon(self._on_welcome)
            return
        self._ui.setStatus(status_of(change.current, self._welcomed), self._applied, change.reason)

    def _on_welcome(self) -> None:
        client = self._client
        if client is None or client.status is not SessionState.CONNECTED:
            return
        resumed = client.last_resume
        if client.state is not None:
            self._draw(client.state, authoritative=True)
        if resumed is not None and (resumed.outage is not None or self._resuming_saved_seat):
            # After a drop: from losing the connection to the welcome. After a reload (a seat
            # from localStorage): from dialling to the welcome.
            took = resumed.outage if resumed.outage is not None else resumed.time_to_resume
            # In a cluster, the node that welcomed, and whether the game moved there.
            self._ui.showResume(
                round(took * 1000), resumed.missed, resumed.resync, resumed.node, resumed.moved
            )
        self._resuming_saved_seat = False
        self._welcomed = True
        # What the page has shown, not what the welcome brought: its replayed events are still
        # on their way to the log.
        seq = self._applied if self._applied is not None else self._resume_from
        self._ui.setStatus("connected", seq, "welcomed")

    def _on_presence(self, player_id: str, connected: bool) -> None:
        """Presence is not an event: draw the seats again with who is connected now."""
        if self._view is not None:
            self._ui.render(json.dumps(self._with_presence(self._view)), True)

    def _with_presence(self, view: dict[str, Any]) -> dict[str, Any]:
        """`view` with the presence the server announced since the last welcome (which may
        have come before a welcome's view was drawn, or after a fetched view was computed)."""
        news = self._client.presence if self._client is not None else {}
        if not news:
            return view
        seats = [
            {**seat, "connected": news[seat["playerId"]]}
            if isinstance(seat, dict) and seat.get("playerId") in news
            else seat
            for seat in view.get("seats") or []
        ]
        return {**view, "seats": seats}

    def _failed(self, failure: SessionFailedError) -> None:
        final = (failure.details or {}).get("gameState")
        if isinstance(final, dict):
            self._draw(final)
        self.fatal(failure.code, failure.message)

    def fatal(self, code: str, message: str, *, can_forget: bool | None = None) -> None:
        """Stop on a refusal and say why; `can_forget` overrides whether forgetting the saved
        seat is offered as the way out."""
        if self._client is not None:
            # Already stopped by the session; this lets go of its listeners (network events).
            spawn(self._client.close(), "closing the client")
        text, forgettable = fatal_message(code, message)
        self._ui.setStatus("closed", self._applied, code)
        self._ui.showFatal(code, text, forgettable if can_forget is None else can_forget)

    # --- the view ---------------------------------------------------------------------------

    def _draw(self, view: dict[str, Any], *, authoritative: bool = False) -> None:
        """Draw `view` unless an answer older than the one drawn arrived late. A welcome's or a
        resync's view is drawn whatever its seq: after a relaxed-durability crash the game may
        stand at a lower seq than the page had seen, and that is the truth now."""
        seq = int(view.get("seq", -1))
        if authoritative:
            self._epoch += 1  # a fetch started before this must not draw over it
        elif seq < self._view_seq:
            return
        self._view_seq = seq
        self._view = view
        self._ui.render(json.dumps(self._with_presence(view)))

    def _refresh(self) -> None:
        """Fetch the view once events have moved past it; one fetch at a time."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        spawn(self._fetch_view(), "fetching the table's state")

    async def _fetch_view(self) -> None:
        """Until the drawn view is at least as new as the events shown. A failed fetch is tried
        again (after FETCH_RETRY_S) while connected: the buttons of the player's turn come only
        from the view. While not connected the next welcome brings the view anyway."""
        client = self._client
        try:
            while client is not None and client.status is SessionState.CONNECTED:
                self._refresh_again = False
                epoch = self._epoch
                try:
                    view = await client.fetch_state()
                except ConnectionError as error:
                    log.info("could not fetch the state: %s", error)
                    await asyncio.sleep(FETCH_RETRY_S)
                    continue
                except HttpApiError as error:
                    if error.status < 500:
                        log.warning("the state was refused: %s", error)  # retrying cannot help
                        return
                    log.info("could not fetch the state: %s", error)
                    await asyncio.sleep(FETCH_RETRY_S)
                    continue
                if epoch == self._epoch:
                    self._draw(view)
                behind = self._applied is not None and self._view_seq < self._applied
                if behind:
                    await asyncio.sleep(FETCH_RETRY_S / 10)
                elif not self._refresh_again:
                    return
        finally:
            self._refreshing = False


class Handlers:
    """What the page's buttons call (from JavaScript, synchronously): each starts a task."""

    def __init__(self, page: TablePage) -> None:
        self._page = page

    def join(self, name: Any) -> None:
        spawn(self._page.join(str(name)), "joining")

    def act(self, type: Any, amount: Any, at_seq: Any = None) -> None:
        spawn(self._page.act(str(type), number_or_none(amount), number_or_none(at_seq)), "acting")

    def start(self) -> None:
        spawn(self._page.start_hand(), "starting a hand")

    def forget(self) -> None:
        self._page.forget()


_pages: list[TablePage] = []


def start(game_id: str, ui: Any, owns_tab: bool = True, base_url: str | None = None) -> None:
    """Called by boot.mjs once Python is ready. `owns_tab` is False when another tab of this
    browser holds this table's lock (a browser keeps one seat per table). `base_url`: the app's
    root (`http://host` or `http://host/<prefix>`), the page's origin if not given."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    page = TablePage(game_id, ui, server_url=base_url)
    _pages.append(page)  # kept alive: the JS side holds only proxies
    if not owns_tab:
        page.fatal(ANOTHER_TAB, "another tab holds this table")
        return
    spawn(page.run(), "the table page")
