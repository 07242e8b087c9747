"""Shared helpers for the poker table's tests: a driver with an injected clock, a rigged deck, and
the checks every test wants (chips conserved, replay and `load(dump())` equal to the live game).

pokerkit warns when it is fed cards it did not expect; here every warning fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from rejoin_server.games.base import Abandon, Act, Command, Event, Join, Start, Tick
from rejoin_server.games.poker import PokerEngine, PokerTable
from rejoin_server.games.poker import cards as poker_cards

T = TypeVar("T")
START = 1_700_000_000_000
ENGINE = PokerEngine()
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("error"))


class Chooser(Protocol):
    """What random play needs: `random.Random` has it, and so does a Hypothesis adapter."""

    def choice(self, seq: Sequence[T]) -> T: ...

    def randint(self, a: int, b: int) -> int: ...


class Driver:
    """One table, its full event log, and a clock the test moves by hand."""

    def __init__(self, players: int = 2, **settings: Any) -> None:
        self.settings = settings
        self.table: PokerTable = ENGINE.new_game("game-1", settings)
        self.now = START
        self.log: list[Event] = []
        self.players: list[str] = []
        for _ in range(players):
            self.join()

    def run(self, command: Command) -> list[Event]:
        before = self.table.seq
        events = self.table.handle(command, self.now)
        assert [e.seq for e in events] == list(range(before + 1, before + 1 + len(events)))
        assert all(e.at == self.now for e in events)
        self.log.extend(events)
        return events

    def join(self, seat: int | None = None, name: str | None = None) -> str:
        player = f"player{len(self.players):06d}"  # 12 characters, like the server's ids
        self.run(Join(player, name or f"Player {len(self.players) + 1}", seat))
        self.players.append(player)
        return player

    def start(self, player: str | None = None) -> list[Event]:
        return self.run(Start(player or self.players[0]))

    def tick(self, now: int | None = None, *, attended: bool = True) -> list[Event]:
        if now is not None:
            self.now = now
        return self.run(Tick(attended))

    def abandon(self, reason: str = "abandoned") -> list[Event]:
        return self.run(Abandon(reason))

    def player_at(self, seat: int) -> str:
        return self.table.seats[seat].player_id

    @property
    def to_act(self) -> int | None:
        return self.table.view(None)["toAct"]  # type: ignore[no-any-return]

    def act(self, type_: str, amount: int | None = None) -> list[Event]:
        seat = self.to_act
        assert seat is not None, "nobody is to act"
        return self.run(
            Act(self.player_at(seat), type_, {} if amount is None else {"amount": amount})
        )

    def legal(self) -> list[dict[str, Any]]:
        seat = self.to_act
        assert seat is not None
        return self.table.view(self.player_at(seat))["you"]["legalActions"]  # type: ignore[no-any-return]

    def views(self, table: PokerTable | None = None) -> dict[str | None, Any]:
        table = table or self.table
        return {p: table.view(p) for p in [*self.players, None]}

    def replayed(self, upto: int | None = None) -> PokerTable:
        table = ENGINE.new_game("game-1", self.settings)
        for event in self.log[:upto]:
            table.apply(event)
        return table

    def step(self, rng: Chooser) -> bool:
        """One random legal move (or a clock running out, or a late joiner); False once over."""
        if self.table.status == "completed":
            return False
        seat = self.to_act
        if seat is None:  # between hands
            deadline = self.table.next_deadline()
            if deadline is None:
                return False
            self.now = max(self.now, deadline)
            self.tick()
            return True
        roll = rng.randint(0, 29)
        if roll == 0:  # the player's clock runs out
            deadline = self.table.next_deadline()
            assert deadline is not None
            self.tick(max(self.now, deadline))
            return True
        if roll == 1 and len(self.table.seats) < self.table.settings.seats:
            self.join()
            return True
        # Weighted like a loose table, so games last several hands and still reach all-ins.
        legal = {a["type"]: a for a in self.legal()}
        sizing = legal.get("bet") or legal.get("raise")
        roll = rng.randint(0, 99)
        amount = None
        if roll < 4 and "allin" in legal:
            type_ = "allin"
        elif roll < 20 and "fold" in legal:
            type_ = "fold"
        elif roll < 45 and sizing is not None:
            type_, low, high = sizing["type"], sizing["min"], sizing["max"]
            amount = rng.choice([low, low, min(high, 2 * low), rng.randint(low, high)])
        else:
            type_ = "check" if "check" in legal else "call"
        self.now += rng.randint(0, 2_000)
        self.act(type_, amount)
        return True

    def assert_consistent(self) -> None:
        assert (
            self.table.total_chips() == len(self.table.seats) * self.table.settings.starting_stack
        )
        for other in (self.replayed(), ENGINE.load("game-1", self.settings, self.table.dump())):
            assert other.seq == self.table.seq
            assert other.dump() == self.table.dump()
            assert self.views(other) == self.views()
            assert other.next_deadline() == self.table.next_deadline()


@pytest.fixture
def new_game() -> Callable[..., Driver]:
    return Driver


@pytest.fixture
def deck(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Cards the table will deal next, in order (hole cards seat by seat from the button's left,
    then flop, turn, river); once empty, dealing is random again."""
    queue: list[str] = []
    real = poker_cards.draw

    def draw(count: int, dealt: Any) -> list[str]:
        if not queue:
            return real(count, dealt)
        out, queue[:count] = queue[:count], []
        assert len(out) == count
        assert not set(out) & set(dealt), "rigged a card that is already dealt"
        return out

    monkeypatch.setattr(poker_cards, "draw", draw)
    return queue


@pytest.fixture
def uneven_stacks(new_game: Callable[..., Driver], deck: list[str]) -> Driver:
    """Three players of 100; the first hand (rigged: a fold, a raise to 50 called, checked down
    to a showdown) leaves the stacks at 100 / 50 / 150, and the second hand is dealt, button 1
    first to act."""
    game = new_game(players=3, startingStack=100)
    deck.extend(["7c", "2d", "As", "Ah", "Kc", "Qd", "9c", "8d", "3h", "4s", "Jc"])
    game.start()
    game.act("fold")
    game.act("raise", 50)
    game.act("call")
    for _ in range(6):
        game.act("check")
    game.tick(game.table.next_deadline())
    return game


@pytest.fixture
def all_in_called(new_game: Callable[..., Driver], deck: list[str]) -> tuple[Driver, list[Event]]:
    """Two players of 10 go all in preflop and seat 1 wins every chip (a rigged deck): the game
    and the events of the call."""
    game = new_game(players=2, startingStack=10)
    deck.extend(["As", "Ah", "7c", "2d", "9c", "8d", "3h", "4s", "Jc"])
    game.start()
    game.act("allin")
    return game, game.act("call")


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


@pytest.fixture
def kinds_of() -> Callable[[list[Event]], list[str]]:
    return kinds
