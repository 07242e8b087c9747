"""`LiarsDiceGame`, the `GameState` of one game: a `DiceState` with the seam's methods, each handed
to the module that owns it (`commands.handle`, `appliers.apply`, `view`, `snapshot`). They all take
a `DiceState`, so the dependency runs one way: this module imports them, none imports it."""

from __future__ import annotations

from liars_dice.appliers import apply
from liars_dice.commands import Roll, handle
from liars_dice.settings import DiceSettings
from liars_dice.snapshot import dump_state
from liars_dice.state import DiceState
from liars_dice.view import build_view, redact
from rejoin_server.games import Command, Event, JsonDict


class LiarsDiceGame(DiceState):
    """One game as the server sees it (`rejoin_server.games.GameState`). `game_id`, `seq`,
    `status`, `next_deadline` and `seat_of` come from `DiceState`; `roll` draws the dice."""

    def __init__(self, game_id: str, settings: DiceSettings, roll: Roll) -> None:
        super().__init__(game_id, settings)
        self._roll = roll

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        return handle(self, command, now_ms, self._roll)

    def apply(self, event: Event) -> None:
        apply(self, event)

    def view(self, player_id: str | None) -> JsonDict:
        return build_view(self, player_id)

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return redact(event, player_id)

    def dump(self) -> JsonDict:
        return dump_state(self)
