"""High Number, a tiny correct game for the engine contract checks' own tests (not poker, so the
checks are seen to need nothing of it). `contract_doubles` breaks it one rule at a time.

Each round every player is dealt a secret number; in seat order each bids 1 to 3 chips on it (a
clock bids 1 for a player who waits too long); then all numbers are revealed and the highest takes
the bids. After `rounds` rounds the game is over. Numbers come from a `random.Random` seeded by
the game id, so a run replays exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rejoin_server.games.base import (
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

PLAYERS = ("ann", "bob", "cyd")
SETTINGS: JsonDict = {"seats": 3, "rounds": 3, "turnMs": 5_000}
MAX_BID = 3


class ToyState:
    def __init__(self, game_id: str, settings: Mapping[str, Any]) -> None:
        self._game_id = game_id
        self.seats_max = int(settings.get("seats", 2))
        self.rounds = int(settings.get("rounds", 3))
        self.turn_ms = int(settings.get("turnMs", 5_000))
        self.rng = random.Random(game_id)  # drawn in handle only; never part of the state
        self._seq = 0
        self._status: GameStatus = "waiting"
        self.seats: list[str] = []
        self.round = 0
        self.turn: int | None = None
        self.bids: dict[str, int] = {}
        self.numbers: dict[str, int] = {}
        self.revealed: JsonDict | None = None
        self.scores: dict[str, int] = {}
        self.deadline: int | None = None

    @property
    def game_id(self) -> str:
        return self._game_id

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def status(self) -> GameStatus:
        return self._status

    def next_deadline(self) -> int | None:
        return self.deadline if self._status == "playing" else None

    def seat_of(self, player_id: str) -> int | None:
        return self.seats.index(player_id) if player_id in self.seats else None

    # Commands: everything is checked before the first event.

    def handle(self, command: Command, now_ms: int) -> list[Event]:
        events: list[Event] = []

        def emit(kind: str, **data: Any) -> None:
            event = Event(self._seq + 1, kind, now_ms, data)
            self.apply(event)
            events.append(event)

        if isinstance(command, Tick):
            if self.deadline is not None and now_ms >= self.deadline and self.turn is not None:
                emit("timeout", playerId=self.seats[self.turn])
                self._after_bid(emit)
            return events
        if self._status == "completed":
            raise GameRuleError("game_completed", "This game is over; start another one.")
        if isinstance(command, Abandon):
            emit("completed", reason=command.reason)
        elif isinstance(command, Join):
            self._check_join(command)
            emit("joined", playerId=command.player_id)
        elif isinstance(command, Start):
            self._check_start(command)
            emit("started")
            self._deal(emit)
        elif isinstance(command, Act):
            emit("bid", playerId=command.player_id, amount=self._check_bid(command))
            self._after_bid(emit)
        return events

    def _check_join(self, command: Join) -> None:
        if self._status != "waiting":
            raise GameRuleError("game_active", "The game has started; watch it instead.")
        if command.player_id in self.seats:
            raise GameRuleError("invalid_request", "You already sit here; reconnect instead.")
        if len(self.seats) >= self.seats_max:
            raise GameRuleError("table_full", "Every seat is taken; join another game.")

    def _check_start(self, command: Start) -> None:
        if command.player_id not in self.seats:
            raise GameRuleError("player_not_in_game", "Join the game before starting it.")
        if self._status != "waiting":
            raise GameRuleError("game_active", "The game has started already.")
        if len(self.seats) < 2:
            raise GameRuleError("invalid_action", "Wait for a second player to join.")

    def _check_bid(self, command: Act) -> int:
        if command.player_id not in self.seats:
            raise GameRuleError("player_not_in_game", "Join the game first.")
        if self.turn is None or self.seats[self.turn] != command.player_id:
            raise GameRuleError("not_your_turn", "Wait for your turn.")
        amount = command.data.get("amount")
        if command.type != "bid" or set(command.data) != {"amount"}:
            raise GameRuleError("invalid_action", 'Send {"type": "bid", "amount": 1..3}.')
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_BID:
            raise GameRuleError("invalid_action", f"Bid 1 to {MAX_BID} chips, not {amount!r}.")
        return amount

    def _deal(self, emit: Any) -> None:
        emit("round_started", round=self.round + 1)
        for player in self.seats:
            emit("dealt", playerId=player, number=self.rng.randint(1, 10**9))

    def _after_bid(self, emit: Any) -> None:
        if self.turn is not None:
            return  # the next player bids
        winner = max(self.seats, key=lambda p: (self.numbers[p], -self.seats.index(p)))
        emit(
            "revealed",
            numbers=dict(self.numbers),
            winner=winner,
            pot=sum(self.bids.values()),
        )
        if self.round < self.rounds:
            self._deal(emit)
        else:
            emit("completed", reason="finished")

    # Events: the only code that changes the state.

    def apply(self, event: Event) -> None:
        if event.seq != self._seq + 1:
            raise ValueError(f"expected seq {self._seq + 1}, got {event.seq}")
        data = event.data
        if event.kind == "joined":
            self.seats.append(data["playerId"])
            self.scores[data["playerId"]] = 0
        elif event.kind == "started":
            self._status = "playing"
        elif event.kind == "round_started":
            self.round, self.turn, self.bids = data["round"], 0, {}
            self.deadline = event.at + self.turn_ms
        elif event.kind == "dealt":
            self.numbers[data["playerId"]] = data["number"]
        elif event.kind in ("bid", "timeout"):
            self.bids[data["playerId"]] = data.get("amount", 1)
            self._next_turn(event.at)
        elif event.kind == "revealed":
            self.scores[data["winner"]] += data["pot"]
            self.revealed = {"round": self.round, "numbers": dict(data["numbers"])}
            self.numbers = {}
        elif event.kind == "completed":
            self._status, self.turn, self.deadline = "completed", None, None
        else:
            raise ValueError(f"unknown event kind {event.kind!r}")
        self._seq = event.seq

    def _next_turn(self, at: int) -> None:
        assert self.turn is not None
        self.turn = self.turn + 1 if self.turn + 1 < len(self.seats) else None
        self.deadline = at + self.turn_ms if self.turn is not None else None

    # What players see.

    def view(self, player_id: str | None) -> JsonDict:
        turn = self.seats[self.turn] if self.turn is not None else None
        legal: list[JsonDict] = []
        if turn is not None and turn == player_id and self._status == "playing":
            amount = {"type": "integer", "minimum": 1, "maximum": MAX_BID}
            legal = [{"type": "bid", "fields": {"amount": amount}}]
        seat = self.seat_of(player_id) if player_id is not None else None
        return {
            "gameId": self._game_id,
            "seq": self._seq,
            "status": self._status,
            "round": self.round,
            "turn": turn,
            "deadline": self.next_deadline(),
            "players": [
                {
                    "playerId": p,
                    "seat": i,
                    "score": self.scores[p],
                    "bid": self.bids.get(p),
                    "number": self.numbers.get(p) if p == player_id else None,
                }
                for i, p in enumerate(self.seats)
            ],
            "lastReveal": self.revealed,
            "you": None
            if seat is None
            else {"playerId": player_id, "seat": seat, "legalActions": legal},
        }

    def event_for(self, event: Event, player_id: str | None) -> Event:
        if event.kind == "dealt" and event.data["playerId"] != player_id:
            return replace(event, data={**event.data, "number": None})
        return event

    def dump(self) -> JsonDict:
        return {
            "seq": self._seq,
            "status": self._status,
            "seats": list(self.seats),
            "round": self.round,
            "turn": self.turn,
            "bids": dict(self.bids),
            "numbers": dict(self.numbers),
            "revealed": None if self.revealed is None else dict(self.revealed),
            "scores": dict(self.scores),
            "deadline": self.deadline,
        }


class ToyEngine:
    kind = "high-number"
    state_type: type[ToyState] = ToyState

    def new_game(self, game_id: str, settings: Mapping[str, Any]) -> ToyState:
        return self.state_type(game_id, settings)

    def load(self, game_id: str, settings: Mapping[str, Any], data: Mapping[str, Any]) -> ToyState:
        state = self.new_game(game_id, settings)
        try:
            state._seq, state._status = data["seq"], data["status"]
            state.seats, state.round, state.turn = list(data["seats"]), data["round"], data["turn"]
            state.bids, state.numbers = dict(data["bids"]), dict(data["numbers"])
            state.revealed = data["revealed"]
            state.scores, state.deadline = dict(data["scores"]), data["deadline"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a dump of this game: {exc!r}") from exc
        return state


def play(state: ToyState, rng: random.Random) -> Command | None:
    """Mostly legal moves read from the views; one in six something the rules refuse."""
    seated = list(state.seats)
    if state.status == "waiting":
        newcomers = [p for p in PLAYERS if p not in seated]
        if newcomers and (len(seated) < 2 or rng.random() < 0.5):
            return Join(newcomers[0], newcomers[0].title())
        return Start(rng.choice(PLAYERS))  # a newcomer's Start is refused
    turn = state.view(None)["turn"]
    if turn is None:
        return None
    if rng.random() < 1 / 6:
        others = [p for p in PLAYERS if p != turn]
        refused: list[Command] = [
            Act(rng.choice(others), "bid", {"amount": 1}),
            Act(turn, "bid", {"amount": rng.choice([0, MAX_BID + 1, "2", True])}),
            Act(turn, "bid", {"amount": 1, "also": 2}),
            Join(turn, "Again"),
            Start(turn),
        ]
        return rng.choice(refused)
    (legal,) = state.view(turn)["you"]["legalActions"]
    amount = legal["fields"]["amount"]
    return Act(turn, legal["type"], {"amount": rng.randint(amount["minimum"], amount["maximum"])})


def secrets(state: ToyState, player_id: str) -> list[JsonDict]:
    """A player's number until the round's reveal, with their id: a bare number could be any."""
    number = state.numbers.get(player_id)
    return [] if number is None else [{"playerId": player_id, "number": number}]
