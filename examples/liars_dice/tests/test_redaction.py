"""No player sees another's dice before a challenge reveals them: not in a view, not in an event.

The strongest form is checked at every step of random games: a player's view is the same whatever
the dice they may not see (a twin game with those dice changed shows them the very same view).
`event_for` keeps every seq and kind, and hides only other players' `dice_rolled` dice.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from liars_dice import LiarsDiceGame

from .driver import GAME_ID, Driver


def hidden_from(game: Driver, viewer: str | None) -> list[int]:
    """The seats whose dice `viewer` may not see now."""
    state = game.game
    if state.revealed:
        return []
    mine = None if viewer is None else state.seat_of(viewer)
    return [seat for seat in state.rolled if seat != mine]


def twin_with_other_dice(game: Driver, hidden: list[int]) -> LiarsDiceGame:
    """The same game with every die of the `hidden` seats turned to another face."""
    dump = game.game.dump()
    order = dump["o"]
    dump["d"] = [
        "".join(str(int(d) % 6 + 1) for d in text) if order[i] in hidden else text
        for i, text in enumerate(dump["d"])
    ]
    return game.engine.load(GAME_ID, game.game_settings(), dump)


def assert_private(game: Driver) -> None:
    for viewer in [*game.players, None]:
        view = game.game.view(viewer)
        hidden = hidden_from(game, viewer)
        for seat in view["seats"]:
            if seat["seat"] in hidden:
                assert seat["dice"] is None, (viewer, seat)
        if hidden:
            twin = twin_with_other_dice(game, hidden)
            assert twin.view(viewer) == view, f"{viewer}'s view depends on dice they cannot see"


def assert_events_private(game: Driver) -> None:
    for viewer in [*game.players, None]:
        for event in game.log:
            seen = game.game.event_for(event, viewer)
            assert (seen.seq, seen.kind, seen.at) == (event.seq, event.kind, event.at)
            if event.kind == "dice_rolled" and event.data["playerId"] != viewer:
                assert seen.data == {**event.data, "dice": None}
            else:
                assert seen.data == event.data


def test_a_player_sees_their_own_dice_and_nobody_elses() -> None:
    game = Driver(players=3, dice=3)
    game.start([1, 2, 3], [4, 5, 6], [2, 2, 2])
    for seat, own in enumerate([[1, 2, 3], [4, 5, 6], [2, 2, 2]]):
        view = game.view(seat)
        assert view["you"]["dice"] == own
        assert [s["dice"] for s in view["seats"]] == [own if s == seat else None for s in range(3)]
    assert [s["dice"] for s in game.view()["seats"]] == [None, None, None]
    assert game.view()["you"] is None
    assert_private(game)
    assert_events_private(game)


def test_a_dice_rolled_event_reaches_others_with_no_dice_and_the_same_seq() -> None:
    game = Driver(players=2, dice=2)
    events = game.start([3, 4], [5, 6])
    rolled = events[1]
    assert rolled.data == {"seat": 0, "playerId": "p0", "dice": [3, 4]}
    assert game.game.event_for(rolled, "p0") == rolled
    for other in ("p1", None, "stranger"):
        seen = game.game.event_for(rolled, other)
        assert seen.seq == rolled.seq
        assert seen.data == {"seat": 0, "playerId": "p0", "dice": None}
    assert rolled.data["dice"] == [3, 4]  # the stored event is untouched


def test_a_challenge_reveals_the_round_until_the_next_is_rolled() -> None:
    game = Driver(players=2, dice=2)
    game.start([3, 4], [5, 6])
    game.bid(1, 3)
    game.challenge()
    for viewer in ("p0", "p1", None):
        assert [s["dice"] for s in game.game.view(viewer)["seats"]] == [[3, 4], [5, 6]]
    game.next_round([1], [2, 2])  # seat 1 lost a die and opens
    assert [s["dice"] for s in game.view(0)["seats"]] == [[2, 2], None]
    assert [s["dice"] for s in game.view()["seats"]] == [None, None]
    assert_private(game)


@pytest.mark.parametrize("seed", range(12))
def test_no_view_ever_depends_on_dice_its_player_cannot_see(seed: int) -> None:
    rng = random.Random(seed)
    game = Driver(players=rng.randint(2, 6), seats=6, dice=rng.randint(1, 4), seed=seed)
    game.start()
    while game.step(rng):
        assert_private(game)
    assert_events_private(game)


def test_an_abandoned_round_keeps_its_dice_hidden() -> None:
    game = Driver(players=2, dice=2)
    game.start([3, 4], [5, 6])
    game.abandon()
    assert_private(game)
    views: dict[str | None, Any] = {v: game.game.view(v) for v in ("p0", "p1", None)}
    assert [s["dice"] for s in views[None]["seats"]] == [None, None]
    assert [s["dice"] for s in views["p1"]["seats"]] == [None, [5, 6]]
