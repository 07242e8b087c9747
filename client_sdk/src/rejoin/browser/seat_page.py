"""What every table page's controller shares: one seat of one game in a browser tab, played by
the Python SDK under Pyodide. The poker table (`table`) and the generic page of any other kind
(`generic`) are this plus their own actions and drawing.

`client_sdk/web/static/boot.mjs` boots Pyodide, unpacks the SDK wheels and calls the page
module's `start(gameId, ui, ownsTab)`. From then on the controller decides everything and the
page's JavaScript only draws: `ui` takes JSON strings and plain values (`bind`, `showJoin`,
`render`, `setStatus`, `showResume`, `appendEvent`, `showMessage`, `showFatal`), and calls back
into the page's `Handlers` for the join form and the buttons.

- The seat lives in `localStorage` (`BrowserTokenStore`), so a reload resumes it.
- Without one, the page asks about the table first (`join_flow`): a wrong link and a finished
  game say so before any name is asked; a seat the link asks for that is taken offers the free ones.
- The view is the player's `gameState`: from each welcome, and fetched again (`GET …/state`)
  after events arrive, one fetch at a time, so the page never folds the game's rules itself.
- The event log gets each event once, in seq order, also across reconnects (`GameClient.events`),
  with the page's words for it when it has some (`describe`: the poker table's `poker_log`).
- `#status` follows the session: `unseated` while the join form waits for a name, `connecting`
  from taking the seat to the first welcome, `connected`, `reconnecting` while a lost connection
  is resumed (the page pauses under an overlay: the seat is kept), `closed` after a fatal
  refusal; after a resume, how long it took and how many events were missed; while connected,
  over what ("connected over SSE"; `?transport=` forces one: `transport_choice`). Those words,
  their tooltips and each fatal refusal's message are in `table_text` (close codes: the console).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Final

from js import location, navigator  # type: ignore[import-not-found]  # Pyodide only
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from rejoin.browser import table_text
from rejoin.browser.join_flow import before_join, requested_seat
from rejoin.browser.join_text import result_text
from rejoin.browser.page_support import number_or_none, spawn, with_presence
from rejoin.browser.transport_choice import requested_transport
from rejoin.client import RESYNC, GameClient
from rejoin.errors import ActionRejectedError, HttpApiError, RejoinError, SessionFailedError
from rejoin.http_api import post_json
from rejoin.tokens import BrowserTokenStore, TokenStoreCorrupt
from rejoin.urls import game_url, server_base
from rejoin_protocol.session import SessionState
from rejoin_protocol.session_outputs import StatusChanged

__all__ = ["SeatHandlers", "SeatPage", "launch", "requested_seat"]

log = logging.getLogger(__name__)

FETCH_RETRY_S: Final = 0.5


class SeatPage:
    """One tab's seat at game `game_id`, drawn through `ui`. A page adds its actions (called from
    its `Handlers`, made by `handlers()`) and may draw its view its own way (`render`)."""

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
        self._handlers = create_proxy(self.handlers())
        ui.bind(self._handlers)

    def handlers(self) -> SeatHandlers:
        """What the page's JavaScript calls; a page with actions returns its own."""
        return SeatHandlers(self)

    def render(self, view: dict[str, Any], quiet: bool) -> None:
        """Draw `view` (presence already folded in). `quiet`: the same view with other presence,
        so what the player is typing and a message on show stay."""
        self._ui.render(json.dumps(view), quiet)

    def describe(self, event: dict[str, Any]) -> str | None:
        """The log line for `event`; None: the page's JavaScript shows the event its own way."""
        return None

    def _status(self, status: str, seq: int | None) -> None:
        """Draw `#status` with its tooltip in plain words (and, connected, over what)."""
        offline = status == "reconnecting" and not bool(navigator.onLine)
        over = self._client.transport if self._client is not None else None
        tooltip = table_text.status_tooltip(status, offline, over)
        self._ui.setStatus(status, seq, tooltip, over if status == "connected" else None)

    # --- entry points ---------------------------------------------------------------------

    async def run(self) -> None:
        """Resume the saved seat, or show the join form."""
        try:
            saved = self._store.load(self.game_id)
        except TokenStoreCorrupt:
            self.fatal("token_invalid", "the saved seat is not readable")
            return
        if saved is None:
            self._status(table_text.UNSEATED, None)
            await self._offer_join(requested_seat(str(location.search)))
            return
        self._resuming_saved_seat = True
        self._resume_from = saved.last_seq
        await self._play()

    async def join(self, name: str, seat: int | None = None) -> None:
        """Take `seat` (None: the one the link asks for, else any) as `name`."""
        if self._joining or self._client is not None:
            return  # a second click while the first join is on its way: one seat per browser
        self._joining = True
        try:
            await self._join(
                name, seat if seat is not None else requested_seat(str(location.search))
            )
        finally:
            self._joining = False

    async def _offer_join(self, asked: int | None, *, otherwise: str | None = None) -> None:
        """The join form, once the server has said the table is there and open (`join_flow`);
        a wrong link and a game that is over say so instead. `asked`: the seat wanted (None:
        any), the free ones offered when it is taken. `otherwise`: the message to show when no
        such offer is made."""
        before = await before_join(self._base, self.game_id, asked)
        if (refusal := before.refusal) is not None:
            if before.final is not None:
                self._draw(before.final)
            # No seat was saved here, so there is none to forget.
            self.fatal(refusal.code, refusal.message, can_forget=False, detail=before.result)
            return
        # An offer says it in the page's words (seats from 1); else the server's message.
        offered = before.choice is not None and before.choice["note"] is not None
        self._ui.showJoin(None if offered else otherwise, json.dumps(before.choice))

    async def _join(self, name: str, seat: int | None) -> None:
        client = self._new_client()
        try:
            await client.join(name.strip(), seat=seat)
        except HttpApiError as error:
            if error.code in (
                "game_completed",
                "game_not_found",
                "seat_taken",
                "table_full",
                "game_active",
            ):
                # Over, gone, the seat taken, the table filled or the game started since the
                # form was drawn: what the table says now (its result, its free seats numbered
                # as people count them, or that it takes nobody, without a button to try again).
                await self._offer_join(seat, otherwise=error.message)
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

    async def send(
        self, type: str, at_seq: int | None, amount: int | None = None, **fields: Any
    ) -> None:
        """Act. `at_seq`: the seq of the view whose button was clicked. A click that reaches the
        server after the game moved on is refused (`stale_state`), never applied to a later
        turn; the page then fetches the view again. A refusal is shown with its code."""
        if self._client is None:
            return
        try:
            await self._client.act(type, amount, at_seq=at_seq, **fields)
        except ActionRejectedError as error:
            self._ui.showMessage(error.message, error.code)
            if error.code == "stale_state":
                self._refresh()
        except RejoinError as error:
            self._ui.showMessage(str(error), getattr(error, "code", None))

    async def start_game(self) -> None:
        """`POST …/start` (poker: deal the next hand); a refusal is shown as a message."""
        if self._client is None or self._client.session_token is None:
            return
        try:
            await post_json(
                game_url(self._base, self.game_id, "start"),
                None,
                bearer=self._client.session_token,
            )
        except HttpApiError as error:
            self._ui.showMessage(error.message, error.code)
        except ConnectionError as error:
            self._ui.showMessage(str(error), None)

    def forget(self) -> None:
        """Drop the saved seat and start over with the join form."""
        self._store.delete(self.game_id)
        location.reload()

    # --- the seat ---------------------------------------------------------------------------

    def _new_client(self) -> GameClient:
        transport = requested_transport(str(location.search))
        client = GameClient(self._base, self.game_id, store=self._store, transport=transport)
        client.on_status(self._on_status)
        client.on_presence(self._on_presence)
        return client

    async def _play(self, client: GameClient | None = None) -> None:
        self._client = client = client if client is not None else self._new_client()
        self._status("connecting", None)
        try:
            await client.connect()
        except SessionFailedError as failure:
            self._failed(failure)
            return
        try:
            async for event in client.events():
                self._applied = int(event["seq"])
                self._ui.appendEvent(json.dumps(event), self.describe(event))
                if event["kind"] == RESYNC:
                    self._draw(event["data"]["gameState"], authoritative=True)
                elif self._applied > self._view_seq:
                    self._refresh()
                self._status(table_text.status_of(client.status, self._welcomed), self._applied)
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
        log.info("connection %s: %s", change.current.value, change.reason)
        self._status(table_text.status_of(change.current, self._welcomed), self._applied)

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
            figures = (resumed.missed, resumed.resync, resumed.node, resumed.moved)
            self._ui.showResume(round(took * 1000), *figures, resumed.transport)
        self._resuming_saved_seat = False
        self._welcomed = True
        # What the page has shown, not what the welcome brought: its replayed events are still
        # on their way to the log.
        seq = self._applied if self._applied is not None else self._resume_from
        self._status("connected", seq)

    def _on_presence(self, player_id: str, connected: bool) -> None:
        """Presence is not an event: draw the seats again with who is connected now."""
        if self._view is not None:
            self.render(self._with_presence(self._view), True)

    def _with_presence(self, view: dict[str, Any]) -> dict[str, Any]:
        """`view` with the presence announced since the last welcome (`with_presence`), and the
        page's own seat connected while it is (over SSE the welcome is the answer to a request
        made before the stream that connects the seat was open)."""
        client = self._client
        if client is None:
            return view
        news = client.presence  # a copy
        if client.status is SessionState.CONNECTED and client.player_id is not None:
            news[client.player_id] = True
        return with_presence(view, news)

    def _failed(self, failure: SessionFailedError) -> None:
        final = (failure.details or {}).get("gameState")
        if isinstance(final, dict):
            self._draw(final)
        self.fatal(failure.code, failure.message, detail=result_text(final))

    def fatal(
        self, code: str, message: str, *, can_forget: bool | None = None, detail: str = ""
    ) -> None:
        """Stop on a refusal and say why; `can_forget` overrides whether forgetting the saved
        seat is offered as the way out; `detail` is said after (a finished game's result)."""
        if self._client is not None:
            # Already stopped by the session; this lets go of its listeners (network events).
            spawn(self._client.close(), "closing the client")
        text, forgettable = table_text.fatal_message(code, message)
        text = f"{text} {detail}" if detail else text
        self._status("closed", self._applied)
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
        self.render(self._with_presence(view), False)

    def _refresh(self) -> None:
        """Fetch the view once events have moved past it; one fetch at a time."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        spawn(self._fetch_view(), "fetching the game's state")

    async def _fetch_view(self) -> None:
        """Until the drawn view is at least as new as the events shown. A failed fetch is tried
        again (after FETCH_RETRY_S) while connected: the player's actions come only from the
        view. While not connected the next welcome brings the view anyway."""
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


class SeatHandlers:
    """What every page's JavaScript calls (synchronously): each starts a task."""

    def __init__(self, page: SeatPage) -> None:
        self._page = page

    def join(self, name: Any, seat: Any = None) -> None:
        spawn(self._page.join(str(name), number_or_none(seat)), "joining")

    def start(self) -> None:
        spawn(self._page.start_game(), "starting the game")

    def forget(self) -> None:
        self._page.forget()


_pages: list[SeatPage] = []


def launch(page: SeatPage, owns_tab: bool) -> None:
    """Run `page` (called by a page module's `start`, which boot.mjs calls once Python is
    ready). `owns_tab` is False when another tab of this browser holds this game's lock (a
    browser keeps one seat per game)."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    _pages.append(page)  # kept alive: the JS side holds only proxies
    if not owns_tab:
        page.fatal(table_text.ANOTHER_TAB, "another tab holds this table")
        return
    spawn(page.run(), "the table page")
