"""`LiarsDiceEngine`: the `GameEngine` of kind "liars-dice", served with
`rejoin-server --game liars_dice:LiarsDiceEngine`."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from liars_dice.commands import Roll
from liars_dice.events import DICE_ROLLED
from liars_dice.game import LiarsDiceGame
from liars_dice.settings import DiceSettings, settings_schema
from liars_dice.snapshot import restore
from liars_dice.state import FACES
from liars_dice.view import KIND
from rejoin_server.games import GameRuleError, JsonDict, PrivateData


def roll_dice(count: int) -> list[int]:
    """`count` fair dice from the operating system's randomness: a player who could predict the
    server's dice would know everyone's hand."""
    return [secrets.randbelow(FACES) + 1 for _ in range(count)]


class LiarsDiceEngine:
    """`roll`: how dice are drawn; tests pass their own to play a known round."""

    kind = KIND
    # Players join before the first round: the lobby lists a table only while it is waiting.
    joins_while_playing = False
    # Encrypted at rest when the server has data keys: the dice rolled, in their event and in
    # the dump's round (`d`).
    private_data = PrivateData(events={DICE_ROLLED: ("dice",)}, state=("d",))

    def __init__(self, roll: Roll = roll_dice) -> None:
        self._roll = roll

    def settings(self, raw: Mapping[str, Any]) -> JsonDict:
        return DiceSettings.parse(raw).to_json()

    def settings_schema(self) -> JsonDict:
        return settings_schema()

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> LiarsDiceGame:
        return LiarsDiceGame(game_id, DiceSettings.parse(settings), self._roll)

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> LiarsDiceGame:
        try:
            parsed = DiceSettings.parse(settings)
        except GameRuleError as exc:
            raise ValueError(f"the stored settings are invalid: {exc.message}") from exc
        game = LiarsDiceGame(game_id, parsed, self._roll)
        restore(game, data)
        return game
