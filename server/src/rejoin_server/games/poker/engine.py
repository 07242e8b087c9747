"""`PokerEngine`: the `GameEngine` of kind "poker", making new tables and loading dumped ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import GameRuleError
from rejoin_server.games.poker.settings import PokerSettings
from rejoin_server.games.poker.snapshot import restore_table
from rejoin_server.games.poker.table import PokerTable


class PokerEngine:
    kind = "poker"

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
