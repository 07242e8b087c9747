"""Property: random legal play over many hands (with expired clocks, late joiners and, sometimes,
the game abandoned at any point) conserves every chip after every event, and at any point both
`load(dump())` and a replay from seq 1 give exactly the live game: the same dump, every seat's view,
and the same next deadline."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rejoin_server.games.poker import PokerEngine
from rejoin_server.games.poker import cards as poker_cards

Game = Any  # conftest's Driver
T = TypeVar("T")
ENGINE = PokerEngine()


class Draws:
    """The `Chooser` the driver's random play needs, backed by Hypothesis so failures shrink."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, seq: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(seq))

    def randint(self, a: int, b: int) -> int:
        return self.data.draw(st.integers(a, b))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_play_conserves_chips_and_restores_exactly(
    new_game: Callable[..., Game], data: st.DataObject
) -> None:
    seats = data.draw(st.integers(2, 9), label="seats")
    blind = data.draw(st.sampled_from([1, 2, 5]), label="small blind")
    game = new_game(
        players=data.draw(st.integers(2, seats), label="players"),
        seats=seats,
        smallBlind=blind,
        bigBlind=2 * blind,
        startingStack=data.draw(st.integers(2 * blind, 100 * blind), label="stack"),
        actionTimeoutMs=data.draw(st.sampled_from([0, 1_000, 30_000]), label="clock"),
        nextHandDelayMs=data.draw(st.sampled_from([0, 3_000]), label="delay"),
    )
    # Hypothesis replays examples, so the cards come from a seeded shuffle instead of `secrets`.
    shuffler = random.Random(data.draw(st.integers(0, 2**32), label="cards"))

    def draw(count: int, dealt: Collection[str]) -> list[str]:
        return shuffler.sample([c for c in poker_cards.DECK if c not in dealt], count)

    with mock.patch.object(poker_cards, "draw", draw):
        play(game, data)


def play(game: Game, data: st.DataObject) -> None:
    shadow = ENGINE.new_game("game-1", game.settings)
    rng = Draws(data)
    game.start()
    for _ in range(data.draw(st.integers(50, 300), label="moves")):
        for event in game.log[shadow.seq :]:
            shadow.apply(event)
            chips = len(shadow.seats) * shadow.settings.starting_stack
            assert shadow.total_chips() == chips, event
        if data.draw(st.integers(0, 14), label="compare") == 0:
            game.assert_consistent()
        if game.table.status != "completed" and data.draw(st.integers(0, 99), label="abandon") == 0:
            chips = game.table.total_chips()
            game.abandon()
            assert game.table.total_chips() == chips
            assert game.table.next_deadline() is None
            assert game.tick(game.now + 10**9) == []
        if not game.step(rng):
            break
    game.assert_consistent()
