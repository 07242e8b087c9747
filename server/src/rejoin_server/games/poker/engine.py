"""`PokerEngine`: the `GameEngine` of kind "poker", making new tables and loading dumped ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import GameRuleError, JsonDict, PrivateData
from rejoin_server.games.poker.events import HOLE_CARDS
from rejoin_server.games.poker.settings import PokerSettings, TableLimits, settings_schema
from rejoin_server.games.poker.snapshot import restore_table
from rejoin_server.games.poker.table import PokerTable


class PokerEngine:
    """`limits`: the bounds this server keeps a new table within (its `--min-…`/`--max-…` flags);
    a table stored before they changed still loads."""

    kind = "poker"
    # A snapshot at a hand's end holds no hand: small, and it loads without pokerkit's state.
    snapshot_after = frozenset({"hand_ended", "game_completed"})
    # A player may sit down at a free seat between hands: a table playing is still in the lobby.
    joins_while_playing = True
    # Encrypted at rest when the server has data keys: the dealt hole cards, in their event and
    # in the dump's hand (`snapshot`: `h.c`, every dealt seat's cards, also of an ended hand).
    private_data = PrivateData(events={HOLE_CARDS: ("cards",)}, state=("h.c",))

    def __init__(self, limits: TableLimits | None = None) -> None:
        self.limits = limits or TableLimits.widest()

    def settings(self, raw: Mapping[str, Any]) -> JsonDict:
        parsed = PokerSettings.parse(raw)
        parsed.check_limits(self.limits)
        return parsed.to_json()

    def settings_schema(self) -> JsonDict:
        return settings_schema(self.limits)

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> PokerTable:
        return PokerTable(game_id, PokerSettings.parse(settings))

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> PokerTable:
        try:
            parsed = PokerSettings.parse(settings)
        except GameRuleError as exc:
            raise ValueError(f"the stored settings are invalid: {exc.message}") from exc
        table = PokerTable(game_id, parsed)
        restore_table(table, data)
        return table
