"""No one ever sees another seat's hole cards before they are shown at showdown: not in an event
built for them (`event_for`), not in a view, at any point of many random hands."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from rejoin_server.games.base import Event
from rejoin_server.games.poker import PokerEngine
from rejoin_server.games.poker import cards as poker_cards
from rejoin_server.games.poker.cards import DECK

Game = Any  # conftest's Driver
CARDS = frozenset(DECK)


def cards_in(value: Any) -> set[str]:
    """Every string anywhere in `value` (keys included) that is a card."""
    if isinstance(value, str):
        return {value} & CARDS
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        return set().union(*(cards_in(v) for v in value))
    return set()


class Visible:
    """What each seat may know at a point of the log: own cards, board, hands shown."""

    def __init__(self) -> None:
        self.hole: dict[int, list[str]] = {}
        self.public: set[str] = set()

    def see(self, event: Event) -> None:
        if event.kind == "hand_started":
            self.hole, self.public = {}, set()
        elif event.kind == "hole_cards":
            self.hole[event.data["seat"]] = list(event.data["cards"])
        elif event.kind == "street":
            self.public |= set(event.data["cards"])
        elif event.kind == "showdown":
            for shown in event.data["hands"]:
                self.public |= set(shown["cards"])

    def allowed(self, seat: int | None) -> set[str]:
        own = set(self.hole.get(seat, [])) if seat is not None else set()
        return own | self.public


@pytest.mark.parametrize("seed", range(6))
def test_nobody_sees_cards_they_should_not(
    new_game: Callable[..., Game], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    # Seeded cards keep the test repeatable; the table's own `secrets` draw is tested elsewhere.
    monkeypatch.setattr(
        poker_cards, "draw", lambda n, dealt: rng.sample([c for c in DECK if c not in dealt], n)
    )
    game = new_game(players=rng.randint(2, 6), seats=6, startingStack=rng.choice([60, 200]))
    game.start()
    for _ in range(400):
        if not game.step(rng):
            break
    assert game.table.hand_number >= 3
    # Rebuild the game event by event, checking every event and every view for every seat.
    table = PokerEngine().new_game("game-1", game.settings)
    visible = Visible()
    viewers = [*game.players, None, "stranger0001"]
    showdowns = 0
    for event in game.log:
        visible.see(event)
        table.apply(event)
        showdowns += event.kind == "showdown"
        for player in viewers:
            seat = table.seat_of(player) if player is not None else None
            allowed = visible.allowed(seat)
            redacted = table.event_for(event, player)
            assert (redacted.seq, redacted.kind, redacted.at) == (event.seq, event.kind, event.at)
            assert not cards_in(redacted.to_json()) - allowed, (player, event)
            assert not cards_in(table.view(player)) - allowed, (player, event.seq)
            if event.kind == "hole_cards" and event.data["seat"] != seat:
                assert redacted.data == {**event.data, "cards": None}
    assert showdowns


def test_own_hole_cards_arrive_unredacted(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3)
    events = game.start()
    dealt = [e for e in events if e.kind == "hole_cards"]
    for event in dealt:
        owner = game.player_at(event.data["seat"])
        assert game.table.event_for(event, owner) is event
        for player in [*game.players, None]:
            if player != owner:
                assert game.table.event_for(event, player).data["cards"] is None
    others = [e for e in events if e.kind != "hole_cards"]
    assert all(game.table.event_for(e, None) is e for e in others)


def test_hole_cards_belong_to_the_player_not_the_seat(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3)
    dealt = next(e for e in game.start() if e.kind == "hole_cards")
    owner = game.player_at(dealt.data["seat"])
    assert dealt.data["playerId"] == owner
    # The same seat's cards dealt to someone who sat there before: never shown to the current owner.
    earlier = Event(dealt.seq, dealt.kind, dealt.at, {**dealt.data, "playerId": "someone-before"})
    assert game.table.event_for(earlier, owner).data["cards"] is None
