"""A table of bots playing real No-Limit Hold'em in memory, one command at a time.

Only the `GameState` interface is used (`handle`, `view`, `next_deadline`), so the events are the
ones the server would append. Bots pick random legal actions, weighted so that hands go on (rare
all-ins, deep stacks): a benchmark needs tables that keep playing, not ones that end in 3 hands.
Time is simulated: every command moves the clock a little, and when nobody is to act the clock
jumps to the table's next deadline and a `Tick` deals the next hand, as the server's timer would.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from typing import Any

from rejoin_server.games.base import Act, Command, Event, GameEngine, GameState, Join, Start, Tick

BASE_MS = 1_750_000_000_000  # the simulated clock's start
STEP_MS = 700  # mean time between two commands at a table


def settings(seats: int) -> dict[str, Any]:
    return {
        "seats": seats,
        "smallBlind": 1,
        "bigBlind": 2,
        "startingStack": 20_000,
        "actionTimeoutMs": 30_000,
        "autoNextHand": True,
        "nextHandDelayMs": 2_000,
    }


def has_hand_end(events: list[Event]) -> bool:
    return any(e.kind == "hand_ended" for e in events)


class Bot:
    """One table and its seated bots."""

    def __init__(
        self,
        engine: GameEngine,
        game_id: str,
        table_settings: Mapping[str, Any],
        seed: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.state: GameState = engine.new_game(game_id, table_settings)
        self.now_ms = BASE_MS
        seats = int(table_settings["seats"])
        # Player ids as uuid4 hex (32 characters): a snapshot's size depends on them, and this
        # longer form keeps the measured size on the safe side.
        self.players = [uuid.UUID(int=self.rng.getrandbits(128)).hex for _ in range(seats)]

    def seat_players(self) -> list[list[Event]]:
        """Join every seat and start the first hand: one batch of events per command."""
        batches = [self._run(Join(pid, f"Player {i + 1}")) for i, pid in enumerate(self.players)]
        batches.append(self._run(Start(self.players[0])))
        return batches

    @property
    def finished(self) -> bool:
        return self.state.status == "completed"

    def step(self) -> list[Event]:
        """One command (an action of the bot to act, or a tick): the events it produced."""
        view = self.state.view(None)
        seat = view["toAct"]
        if seat is None:
            due = self.state.next_deadline()
            if due is None:
                return []
            self.now_ms = max(self.now_ms, due)
            return self._run(Tick())
        player = next(s["playerId"] for s in view["seats"] if s["seat"] == seat)
        legal = self.state.view(player)["you"]["legalActions"]
        return self._run(self._choose(player, legal))

    def mid_hand_after_flop(self) -> bool:
        view = self.state.view(None)
        return view["toAct"] is not None and len(view["board"]) >= 3

    @property
    def hand_number(self) -> int:
        number = self.state.view(None)["handNumber"]
        assert isinstance(number, int)
        return number

    def _choose(self, player: str, legal: list[dict[str, Any]]) -> Command:
        by_type = {a["type"]: a for a in legal}
        roll = self.rng.random()
        if "allin" in by_type and roll < 0.002:
            return Act(player, "allin", {"amount": by_type["allin"]["amount"]})
        to_call = by_type["call"]["amount"] if "call" in by_type else 0
        # Small pots: fold often to big bets, raise only while the raise is small.
        if "fold" in by_type and (roll < 0.15 or (to_call > 100 and roll < 0.8)):
            return Act(player, "fold")
        for kind in ("bet", "raise"):
            if kind in by_type and roll > 0.85 and by_type[kind]["min"] <= 60:
                low, high = by_type[kind]["min"], by_type[kind]["max"]
                return Act(player, kind, {"amount": self.rng.randint(low, min(high, low * 2))})
        if "check" in by_type:
            return Act(player, "check")
        if "call" in by_type:
            return Act(player, "call", {"amount": to_call})
        return Act(player, "fold")

    def _run(self, command: Command) -> list[Event]:
        self.now_ms += self.rng.randint(STEP_MS // 2, STEP_MS * 3 // 2)
        return self.state.handle(command, self.now_ms)
