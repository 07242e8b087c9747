"""What the game's tests share: scripted dice, a driver with a clock the test moves by hand, random
play, and the checks every test wants (replay and `load(dump())` equal to the live game)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from liars_dice import LiarsDiceEngine, LiarsDiceGame
from rejoin_server.games import Abandon, Act, Command, Event, Join, Start, Tick

START = 1_700_000_000_000
GAME_ID = "game-1"


class Dice:
    """The dice a test scripted, in the order they are rolled (one list per player rolling); seeded
    random dice once the script runs out."""

    def __init__(self, seed: int = 0) -> None:
        self.script: list[list[int]] = []
        self.rng = random.Random(seed)

    def __call__(self, count: int) -> list[int]:
        if self.script:
            dice = self.script.pop(0)
            assert len(dice) == count, f"scripted {dice} for a roll of {count} dice"
            return dice
        return [self.rng.randint(1, 6) for _ in range(count)]


class Driver:
    """One game, its full log and a hand-moved clock; players are `p0`, `p1`, … in join order."""

    def __init__(self, players: int = 2, *, seed: int = 0, **settings: Any) -> None:
        self.dice = Dice(seed)
        self.engine = LiarsDiceEngine(roll=self.dice)
        self.settings = settings
        self.game: LiarsDiceGame = self.engine.new_game(GAME_ID, settings)
        self.now = START
        self.log: list[Event] = []
        self.players: list[str] = []
        for _ in range(players):
            self.join()

    def run(self, command: Command) -> list[Event]:
        before = self.game.seq
        events = self.game.handle(command, self.now)
        assert [e.seq for e in events] == list(range(before + 1, before + 1 + len(events)))
        assert all(e.at == self.now for e in events)
        self.log.extend(events)
        return events

    def join(self, seat: int | None = None, name: str | None = None) -> str:
        player = f"p{len(self.players)}"
        self.run(Join(player, name or f"Player {len(self.players)}", seat))
        self.players.append(player)
        return player

    def start(self, *rolls: Sequence[int], player: str | None = None) -> list[Event]:
        self.dice.script.extend(list(roll) for roll in rolls)
        return self.run(Start(player or self.players[0]))

    def tick(self, now: int | None = None, *, attended: bool = True) -> list[Event]:
        if now is not None:
            self.now = now
        return self.run(Tick(attended))

    def next_round(self, *rolls: Sequence[int]) -> list[Event]:
        """Move the clock to the next round and roll it (with `rolls`, in playing order)."""
        self.dice.script.extend(list(roll) for roll in rolls)
        due = self.game.next_deadline()
        assert self.game.phase == "revealed", self.game.phase
        assert due is not None
        return self.tick(max(self.now, due))

    def abandon(self, reason: str = "abandoned") -> list[Event]:
        return self.run(Abandon(reason))

    def player_at(self, seat: int) -> str:
        return self.game.players[seat].player_id

    @property
    def to_act(self) -> int | None:
        seat = self.game.view(None)["toAct"]
        assert seat is None or isinstance(seat, int)
        return seat

    def act(self, type_: str, **fields: Any) -> list[Event]:
        seat = self.to_act
        assert seat is not None, "nobody is to act"
        return self.run(Act(self.player_at(seat), type_, fields))

    def bid(self, count: int, face: int) -> list[Event]:
        return self.act("bid", count=count, face=face)

    def challenge(self) -> list[Event]:
        return self.act("challenge")

    def view(self, seat: int | None = None) -> dict[str, Any]:
        return self.game.view(None if seat is None else self.player_at(seat))

    def legal(self) -> list[dict[str, Any]]:
        seat = self.to_act
        assert seat is not None
        legal: list[dict[str, Any]] = self.view(seat)["you"]["legalActions"]
        return legal

    def replayed(self, upto: int | None = None) -> LiarsDiceGame:
        game = self.engine.new_game(GAME_ID, self.settings)
        for event in self.log[:upto]:
            game.apply(event)
        return game

    def reloaded(self) -> LiarsDiceGame:
        return self.engine.load(GAME_ID, self.game_settings(), self.game.dump())

    def game_settings(self) -> dict[str, Any]:
        return self.game.settings.to_json()

    def assert_consistent(self) -> None:
        """Replaying the log and loading the dump both give the live game, view for view."""
        for other in (self.replayed(), self.reloaded()):
            assert other.seq == self.game.seq
            assert other.status == self.game.status
            assert other.dump() == self.game.dump()
            assert other.next_deadline() == self.game.next_deadline()
            for player in [*self.players, None]:
                assert other.view(player) == self.game.view(player)

    def step(self, rng: random.Random) -> bool:
        """One random legal move, or the clock running out; False once the game is over."""
        if self.game.status == "completed":
            return False
        if self.to_act is None:  # between rounds
            due = self.game.next_deadline()
            assert due is not None, "a game in play always has a clock"
            self.tick(max(self.now, due))
            return True
        if rng.randint(0, 9) == 0:
            due = self.game.next_deadline()
            assert due is not None
            self.tick(max(self.now, due))
            return True
        self.now += rng.randint(0, 1_000)
        legal = {action["type"]: action for action in self.legal()}
        bid = legal.get("bid")
        if bid is None or ("challenge" in legal and rng.random() < 0.3):
            self.challenge()
            return True
        count = bid["fields"]["count"]
        low, high = count["minimum"], count["maximum"]
        current = self.game.bid
        while True:  # the minimum count may be too low for some faces: draw until a bid beats it
            pick = (rng.randint(low, min(high, low + 2)), rng.randint(1, 6))
            if current is None or current.beats(*pick):
                break
        self.bid(*pick)
        return True

    def play_out(self, rng: random.Random, limit: int = 10_000) -> int:
        """Random moves to the end of the game; the number of steps."""
        for steps in range(limit):
            if not self.step(rng):
                return steps
        raise AssertionError(f"the game did not end in {limit} steps")
