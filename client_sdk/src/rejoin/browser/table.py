"""The demo poker table's controller: the Python SDK playing one seat in a browser tab.

Everything a seat needs (joining, resuming, the status line, the event log, the view) is
`seat_page.SeatPage`'s; this adds poker's moves (`{type, amount?}`, the amount as the total bet
to), dealing the next hand, and the event log in a poker player's words (`poker_log`: "bob
raises to 8", seats counted from 1). The page's JavaScript is `table-ui.js`, which draws the felt.
"""

from __future__ import annotations

from typing import Any

from rejoin.browser.page_support import number_or_none, spawn
from rejoin.browser.poker_log import PokerLog
from rejoin.browser.seat_page import SeatHandlers, SeatPage, launch
from rejoin.browser.table_text import FATAL_MESSAGES

# FATAL_MESSAGES: kept importable from here, where the page's words were before `table_text`.
__all__ = ["FATAL_MESSAGES", "Handlers", "TablePage", "start"]


class TablePage(SeatPage):
    """One tab's seat at poker table `game_id`, drawn through `ui` (`table-ui.js`)."""

    def __init__(self, game_id: str, ui: Any, *, server_url: str | None = None) -> None:
        self._log = PokerLog()
        super().__init__(game_id, ui, server_url=server_url)

    def handlers(self) -> Handlers:
        return Handlers(self)

    def render(self, view: dict[str, Any], quiet: bool) -> None:
        self._log.learn_view(view)  # the log names the players the table shows
        super().render(view, quiet)

    def describe(self, event: dict[str, Any]) -> str:
        return self._log.line(event)

    async def act(self, type: str, amount: int | None, at_seq: int | None) -> None:
        await self.send(type, at_seq, amount)

    async def start_hand(self) -> None:
        await self.start_game()


class Handlers(SeatHandlers):
    """What the table's buttons call (from JavaScript, synchronously): each starts a task."""

    def __init__(self, page: TablePage) -> None:
        super().__init__(page)
        self._table = page

    def act(self, type: Any, amount: Any, at_seq: Any = None) -> None:
        spawn(self._table.act(str(type), number_or_none(amount), number_or_none(at_seq)), "acting")


def start(game_id: str, ui: Any, owns_tab: bool = True, base_url: str | None = None) -> None:
    """Called by boot.mjs once Python is ready. `owns_tab` is False when another tab of this
    browser holds this game's lock (a browser keeps one seat per game). `base_url`: the app's
    root (`http://host` or `http://host/<prefix>`), the page's origin if not given."""
    launch(TablePage(game_id, ui, server_url=base_url), owns_tab)
