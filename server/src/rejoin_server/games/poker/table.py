"""`PokerTable`, the `GameState` of one No-Limit Hold'em table: a `TableState` with the seam's
methods, each handed to the module that owns it.

`commands.handle` decides the events of a command, `appliers.apply` folds an event in (the only
code that changes the table), `view` builds what one player sees and `snapshot` dumps the table.
They all take a `TableState`, the data below them, so the dependency runs one way: this module
imports them, none imports it.
"""

from __future__ import annotations

from rejoin_server.games.base import Command, Event, JsonDict
from rejoin_server.games.poker.appliers import apply
from rejoin_server.games.poker.commands import handle
from rejoin_server.games.poker.snapshot import dump_table
from rejoin_server.games.poker.state import Seat, TableState
from rejoin_server.games.poker.view import build_view, redact

__all__ = ["PokerTable", "Seat"]


class PokerTable(TableState):
    """One table as the host sees it (`GameState`). `game_id`, `seq`, `status`, `next_deadline`
    and `seat_of` come from `TableState`."""

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return handle(self, command, now_ms)

    def apply(self, event: Event) -> None:
        apply(self, event)

    def view(self, player_id: str | None) -> JsonDict:
        return build_view(self, player_id)

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return redact(self, event, player_id)

    def dump(self) -> JsonDict:
        return dump_table(self)
