"""A tiny game that is not poker, for the generic table page's browser test: served with
`--game e2e.support.guess_game:GuessEngine` (the repository's root on PYTHONPATH).

Each player gets a secret number from 1 to 10 when the game starts (private: the others see
`null` until the end). In turn, each player guesses the next player's number (`guess`, with
`value` 1-10 and `sure`: right scores 2, or 3 when sure; wrong and sure costs 1), asks whether it
is odd or high (`hint`, with `ask` one of "odd", "high"), or passes. Guessing one's own number is
refused (`invalid_action`), though the form offers it: the page's refusals are tested with it. An
action clock passes for a player who does not move in time. After `rounds` turns each, the
secrets are shown and the game is over.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from rejoin_server.games import (
    Abandon,
    Act,
    Command,
    Event,
    GameRuleError,
    GameStatus,
    Join,
    JsonDict,
    Start,
    Tick,
)

SETTINGS: JsonDict = {
    "type": "object",
    "properties": {
        "seats": {"type": "integer", "minimum": 2, "maximum": 4, "default": 2},
        "rounds": {"type": "integer", "minimum": 1, "maximum": 20, "default": 3},
        "actionTimeoutMs": {"type": "integer", "minimum": 1000, "default": 30000},
    },
    "additionalProperties": False,
}
ASKS = ("odd", "high")


class GuessState:
    def __init__(self, game_id: str, settings: Mapping[str, Any]) -> None:
        self._game_id = game_id
        self.seats_total = int(settings["seats"])
        self.rounds = int(settings["rounds"])
        self.timeout_ms = int(settings["actionTimeoutMs"])
        self.players: list[JsonDict] = []  # {seat, playerId, name, score, secret}
        self.state: GameStatus = "waiting"
        self.to_act: int | None = None
        self.deadline: int | None = None
        self.turns = 0
        self._seq = 0

    # --- the contract ------------------------------------------------------------------------

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return self.state

    def seat_of(self, player_id: str) -> int | None:
        return next((p["seat"] for p in self.players if p["playerId"] == player_id), None)

    def next_deadline(self) -> int | None:
        return self.deadline if self.state == "playing" else None

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        if self.state == "completed" and not isinstance(command, Tick):
            raise GameRuleError("game_completed", "This game is over.")
        drafts: list[tuple[str, JsonDict]]
        match command:
            case Join():
                drafts = self._join(command)
            case Start():
                drafts = self._start(command, now_ms)
            case Act():
                drafts = self._act(command, now_ms)
            case Tick():
                due = (
                    self.deadline is not None
                    and self.state == "playing"
                    and now_ms >= self.deadline
                )
                drafts = self._after(("timeout", {"seat": self.to_act}), now_ms) if due else []
            case Abandon():
                drafts = [self._over(command.reason)]
        events = []
        for kind, data in drafts:
            event = Event(self._seq + 1, kind, now_ms, data)
            self.apply(event)
            events.append(event)
        return events

    def apply(self, event: Event) -> None:
        if event.seq != self._seq + 1:
            raise ValueError(f"expected seq {self._seq + 1}, got {event.seq}")
        data = event.data
        if event.kind == "player_joined":
            self.players.append({**data, "score": 0, "secret": None})
            self.players.sort(key=lambda p: int(p["seat"]))
        elif event.kind == "game_started":
            self.state = "playing"
        elif event.kind == "secret":
            self._player(int(data["seat"]))["secret"] = data["value"]
        elif event.kind in ("guessed", "hinted", "passed", "timeout"):
            self.turns += 1
            if event.kind == "guessed":
                self._player(int(data["seat"]))["score"] += int(data["points"])
        elif event.kind == "turn":
            self.to_act, self.deadline = int(data["seat"]), int(data["deadline"])
        elif event.kind == "game_over":
            self.state, self.to_act, self.deadline = "completed", None, None
        else:
            raise ValueError(f"a guess game has no event {event.kind!r}")
        self._seq = event.seq

    def view(self, player_id: str | None) -> JsonDict:
        mine = self.seat_of(player_id) if player_id is not None else None
        shown = self.state == "completed"
        view: JsonDict = {
            "gameId": self._game_id,
            "seq": self._seq,
            "status": self.state,
            "turn": self.turns,
            "turns": self.rounds * len(self.players) if self.state != "waiting" else None,
            "toAct": self.to_act,
            "actionDeadline": self.deadline,
            "seats": [
                {
                    "seat": p["seat"],
                    "playerId": p["playerId"],
                    "name": p["name"],
                    "score": p["score"],
                    "secret": p["secret"] if shown or p["seat"] == mine else None,
                }
                for p in self.players
            ],
        }
        if mine is not None:
            view["you"] = {
                "playerId": player_id,
                "seat": mine,
                "secret": self._player(mine)["secret"],
                "legalActions": self._legal() if self.to_act == mine else [],
            }
        return view

    def event_for(self, event: Event, player_id: str | None) -> Event:
        if event.kind != "secret" or self.seat_of(player_id or "") == event.data["seat"]:
            return event
        return Event(event.seq, event.kind, event.at, {**event.data, "value": None})

    def dump(self) -> JsonDict:
        return {
            "players": [dict(p) for p in self.players],  # copies: the host keeps dumps
            "state": self.state,
            "toAct": self.to_act,
            "deadline": self.deadline,
            "turns": self.turns,
            "seq": self._seq,
        }

    # --- the rules ---------------------------------------------------------------------------

    def _legal(self) -> list[JsonDict]:
        return [
            {
                "type": "guess",
                "label": "Guess the next player's number",
                "fields": {
                    "value": {"type": "integer", "minimum": 1, "maximum": 10},
                    "sure": {"type": "boolean"},
                },
            },
            {"type": "hint", "fields": {"ask": {"type": "string", "enum": list(ASKS)}}},
            {"type": "pass"},
        ]

    def _join(self, command: Join) -> list[tuple[str, JsonDict]]:
        if self.state != "waiting":
            raise GameRuleError("game_active", "The game has started; no seat is open.")
        taken = {p["seat"] for p in self.players}
        free = [seat for seat in range(self.seats_total) if seat not in taken]
        if not free:
            raise GameRuleError("table_full", "Every seat is taken.")
        seat = command.seat if command.seat is not None else free[0]
        if seat not in range(self.seats_total):
            raise GameRuleError("invalid_request", f"Seats are 0 to {self.seats_total - 1}.")
        if seat in taken:
            raise GameRuleError("seat_taken", f"Seat {seat} is taken; leave the seat empty.")
        return [
            ("player_joined", {"seat": seat, "playerId": command.player_id, "name": command.name})
        ]

    def _start(self, command: Start, now_ms: int) -> list[tuple[str, JsonDict]]:
        if self.seat_of(command.player_id) is None:
            raise GameRuleError("player_not_in_game", "Only a seated player starts the game.")
        if self.state != "waiting" or len(self.players) < 2:
            raise GameRuleError("invalid_action", "A game starts once, with two players or more.")
        drafts = [("game_started", {"players": len(self.players)})]
        drafts += [
            ("secret", {"seat": p["seat"], "value": secrets.randbelow(10) + 1})
            for p in self.players
        ]
        first = self.players[0]["seat"]
        return [*drafts, ("turn", {"seat": first, "deadline": now_ms + self.timeout_ms})]

    def _act(self, command: Act, now_ms: int) -> list[tuple[str, JsonDict]]:
        seat = self.seat_of(command.player_id)
        if self.state != "playing" or seat is None or seat != self.to_act:
            raise GameRuleError("not_your_turn", "Wait for your turn.")
        data = command.data
        if command.type == "pass" and not data:
            return self._after(("passed", {"seat": seat}), now_ms)
        target = self._next_seat(seat)
        if command.type == "hint" and set(data) == {"ask"} and data["ask"] in ASKS:
            secret = int(self._player(target)["secret"])
            answer = secret % 2 == 1 if data["ask"] == "odd" else secret > 5
            move = {"seat": seat, "about": target, "ask": data["ask"], "answer": answer}
            return self._after(("hinted", move), now_ms)
        value, sure = data.get("value"), data.get("sure", False)
        if (
            command.type != "guess"
            or set(data) - {"value", "sure"}
            or not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= 10
            or not isinstance(sure, bool)
        ):
            raise GameRuleError(
                "invalid_action",
                "Send guess {value: 1-10, sure: true|false}, hint {ask: odd|high} or pass.",
            )
        if value == self._player(seat)["secret"]:
            raise GameRuleError("invalid_action", "That is your own number: guess the next one's.")
        right = value == self._player(target)["secret"]
        points = (3 if sure else 2) if right else (-1 if sure else 0)
        move = {"seat": seat, "about": target, "value": value, "sure": sure, "points": points}
        return self._after(("guessed", move), now_ms)

    def _after(self, move: tuple[str, JsonDict], now_ms: int) -> list[tuple[str, JsonDict]]:
        """The move, then the next turn, or the end after the last one."""
        if self.turns + 1 >= self.rounds * len(self.players):
            return [move, self._over("finished")]
        seat = self._next_seat(int(move[1]["seat"]))
        return [move, ("turn", {"seat": seat, "deadline": now_ms + self.timeout_ms})]

    def _over(self, reason: str) -> tuple[str, JsonDict]:
        scores = {str(p["seat"]): p["score"] for p in self.players}
        shown = {str(p["seat"]): p["secret"] for p in self.players}
        return ("game_over", {"reason": reason, "scores": scores, "secrets": shown})

    def _next_seat(self, seat: int) -> int:
        seats = [int(p["seat"]) for p in self.players]
        return seats[(seats.index(seat) + 1) % len(seats)]

    def _player(self, seat: int) -> JsonDict:
        return next(p for p in self.players if p["seat"] == seat)


class GuessEngine:
    kind = "guess"

    def settings(self, raw: Mapping[str, Any]) -> JsonDict:
        unknown = set(raw) - set(SETTINGS["properties"])
        if unknown:
            raise GameRuleError(
                "invalid_request", f"Unknown settings: {', '.join(sorted(unknown))}."
            )
        settings: JsonDict = {}
        for name, schema in SETTINGS["properties"].items():
            value = raw.get(name, schema["default"])
            low, high = schema["minimum"], schema.get("maximum")
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < low
                or (high is not None and value > high)
            ):
                bounds = f"{low} to {high}" if high is not None else f"at least {low}"
                raise GameRuleError("invalid_request", f"{name} must be a whole number, {bounds}.")
            settings[name] = value
        return settings

    def settings_schema(self) -> JsonDict:
        return SETTINGS

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> GuessState:
        return GuessState(game_id, self.settings(settings))

    def load(
        self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]
    ) -> GuessState:
        state = self.new_game(game_id, settings)
        try:
            state.players = [dict(p) for p in data["players"]]
            state.state = data["state"]
            state.to_act, state.deadline = data["toAct"], data["deadline"]
            state.turns, state._seq = int(data["turns"]), int(data["seq"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a guess game's dump: {exc}") from exc
        return state
