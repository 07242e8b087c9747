"""A tiny game of another kind than poker, for the tests of serving games by kind: players join
and add to a shared tally. `boom` is a bug planted in the game: it changes the state half-way and
then fails, as a game's own code may.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rejoin_server.games import Act, Command, Event, GameRuleError, GameStatus, Join, JsonDict


class TallyState:
    def __init__(self, game_id: str, target: int) -> None:
        self._game_id = game_id
        self.target = target
        self.total = 0
        self.players: dict[str, int] = {}  # player id -> seat
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
        match command:
            case Join(player_id=player_id, name=name):
                event = Event(self._seq + 1, "joined", now_ms, {"p": player_id, "name": name})
            case Act(type="add", data=data) if set(data) == {"n"} and type(data["n"]) is int:
                if command.player_id not in self.players:
                    raise GameRuleError("player_not_in_game", "Join the game first.")
                event = Event(self._seq + 1, "added", now_ms, {"n": data["n"]})
            case Act(type="boom"):
                self.total += 1000  # changed half-way, then the bug: never stored
                raise ZeroDivisionError("a bug in the game")
            case _:
                raise GameRuleError("invalid_action", 'Send {"type": "add", "n": <integer>}.')
        self.apply(event)
        return [event]

    def apply(self, event: Event) -> None:
        if event.seq != self._seq + 1:
            raise ValueError(f"expected seq {self._seq + 1}, got {event.seq}")
        if event.kind == "joined":
            self.players[event.data["p"]] = len(self.players)
        elif event.kind == "added":
            self.total += event.data["n"]
        else:
            raise ValueError(f"unknown event {event.kind}")
        self._seq = event.seq

    def next_deadline(self) -> int | None:
        return None

    def seat_of(self, player_id: str) -> int | None:
        return self.players.get(player_id)

    def view(self, player_id: str | None) -> JsonDict:
        return {"total": self.total, "seq": self._seq, "status": self.status}

    def event_for(self, event: Event, player_id: str | None) -> Event:
        return event

    def dump(self) -> JsonDict:
        return {"total": self.total, "seq": self._seq, "players": dict(self.players)}


class TallyEngine:
    kind = "tally"

    def settings(self, raw: Mapping[str, Any]) -> JsonDict:
        target = raw.get("target", 100)
        if set(raw) - {"target"} or type(target) is not int or not 1 <= target <= 10**6:
            raise GameRuleError("invalid_request", "A tally takes only `target`, 1 to 10⁶.")
        return {"target": target}

    def settings_schema(self) -> JsonDict:
        target = {"type": "integer", "minimum": 1, "maximum": 10**6}
        return {"type": "object", "properties": {"target": target}, "additionalProperties": False}

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> TallyState:
        return TallyState(game_id, settings["target"])

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> TallyState:
        state = self.new_game(game_id, settings)
        state.total, state._seq = data["total"], data["seq"]
        state.players = dict(data["players"])
        return state
