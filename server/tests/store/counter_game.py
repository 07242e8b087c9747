"""A tiny game for store tests: it counts. Also proof that the store needs nothing of poker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import Act, Command, Event, GameRuleError, GameStatus, JsonDict


class CounterState:
    def __init__(self, game_id: str, target: int) -> None:
        self._game_id = game_id
        self.target = target
        self.total = 0
        self._seq = 0

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return "completed" if self.total >= self.target else "playing"

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        if not isinstance(command, Act) or not isinstance(command.data.get("amount"), int):
            raise GameRuleError("invalid_action", "send Act with an amount")
        event = Event(self._seq + 1, "added", now_ms, {"n": command.data["amount"]})
        self.apply(event)
        return [event]

    def apply(self, event: Event) -> None:
        if event.seq != self._seq + 1:
            raise ValueError(f"expected seq {self._seq + 1}, got {event.seq}")
        if event.kind != "added" or not isinstance(event.data.get("n"), int):
            raise ValueError(f"not an 'added' event with an int n: {event.kind} {event.data}")
        self.total += event.data["n"]
        self._seq = event.seq

    def next_deadline(self) -> int | None:
        return None

    def seat_of(self, player_id: str) -> int | None:
        return None

    def view(self, player_id: str | None) -> JsonDict:
        return {"total": self.total, "seq": self._seq}

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return event

    def dump(self) -> JsonDict:
        return {"total": self.total, "seq": self._seq}


class CounterEngine:
    kind = "counter"

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> CounterState:
        return CounterState(game_id, int(settings.get("target", 10**9)))

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> CounterState:
        state = self.new_game(game_id, settings)
        if not isinstance(data.get("total"), int) or not isinstance(data.get("seq"), int):
            raise ValueError(f"not a counter dump: {dict(data)}")
        state.total = data["total"]
        state._seq = data["seq"]
        return state
