"""`dump()` is compact JSON data that `load` turns back into the same game; `apply` refuses events
that do not fit the state (wrong seq, unknown kind, malformed or impossible data) without changing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pokerkit
import pytest

from rejoin_server.games.base import Event
from rejoin_server.games.poker import PokerEngine
from rejoin_server.games.poker import hand as poker_hand

Game = Any  # conftest's Driver
ENGINE = PokerEngine()


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def only_json_types(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_json_types(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


def mid_hand(new_game: Callable[..., Game], seats: int) -> Game:
    """A full table on the flop after a few actions."""
    game = new_game(players=seats, seats=seats)
    game.start()
    while game.table.view(None)["phase"] == "preflop":
        game.act("call" if any(a["type"] == "call" for a in game.legal()) else "check")
    game.act("bet", 6)
    game.act("raise", 20)
    game.act("call")
    return game


@pytest.mark.parametrize(("seats", "limit"), [(6, 600), (9, 800)])
def test_dump_mid_hand_is_small(new_game: Callable[..., Game], seats: int, limit: int) -> None:
    game = mid_hand(new_game, seats)
    dump = game.table.dump()
    assert only_json_types(dump)
    size = len(canonical(dump))
    print(f"{seats}-seat dump mid-hand: {size} bytes")
    assert size <= limit
    game.assert_consistent()


def test_load_round_trips_between_hands_and_after_the_game(
    new_game: Callable[..., Game], deck: list[str]
) -> None:
    game = new_game(players=2, startingStack=10)
    game.assert_consistent()  # empty
    game.start()
    game.act("call")
    game.act("check")
    game.act("bet", 2)
    game.act("fold")
    game.assert_consistent()  # between hands: the last board and stacks stay visible
    deck.extend(["7c", "2d", "As", "Ah", "9c", "8d", "3h", "4s", "Jc"])  # seat 1 (12 chips) wins
    game.tick(game.table.next_deadline())
    game.act("allin")
    game.act("call")
    assert game.table.status == "completed"
    game.assert_consistent()
    loaded = ENGINE.load("game-1", game.settings, json.loads(canonical(game.table.dump())))
    assert loaded.dump() == game.table.dump()


# Seats 1..3 check it down after the button (seat 0) folds: seat 1 shows kings first, seat 2 cannot
# win and mucks, seat 3 shows aces and wins.
SHOWDOWN_DECK = ["Kh", "Kd", "7c", "2d", "As", "Ah", "9c", "9d", "3s", "8h", "Jc", "4d", "Qs"]
SHOWDOWN_BOARD = ["3s", "8h", "Jc", "4d", "Qs"]


def showdown_then_hand_over(new_game: Callable[..., Game], deck: list[str]) -> Game:
    game = new_game(players=4, seats=4)
    deck.extend(SHOWDOWN_DECK)
    game.start()
    for type_ in ["call", "fold", "call", "check", *["check"] * 9]:
        game.act(type_)
    assert game.table.view(None)["phase"] == "hand_over"
    assert [h["seat"] for e in game.log if e.kind == "showdown" for h in e.data["hands"]] == [1, 3]
    return game


def loads_without_pokerkit(game: Game, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`load(dump())` of `game` with every way to a pokerkit state made to fail; it equals `game`."""

    def untouchable(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a between-hands load made a pokerkit state")

    with monkeypatch.context() as patched:
        patched.setattr(poker_hand, "_game", untouchable)
        patched.setattr(pokerkit.State, "__post_init__", untouchable)
        loaded = ENGINE.load("game-1", game.settings, json.loads(canonical(game.table.dump())))
        assert loaded.dump() == game.table.dump()
        assert game.views(loaded) == game.views()
        assert loaded.next_deadline() == game.table.next_deadline()
    return loaded


def test_between_hands_load_does_not_touch_pokerkit(
    new_game: Callable[..., Game], deck: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    loads_without_pokerkit(showdown_then_hand_over(new_game, deck), monkeypatch)
    game = new_game(players=2, startingStack=10)
    game.start()
    game.act("fold")  # no showdown
    loads_without_pokerkit(game, monkeypatch)
    deck.extend(["7c", "2d", "As", "Ah", "9c", "8d", "3h", "4s", "Jc"])
    game.tick(game.table.next_deadline())
    game.act("allin")
    game.act("call")
    assert game.table.status == "completed"
    loads_without_pokerkit(game, monkeypatch)


def test_view_after_load_between_hands_shows_board_and_shown_hands_until_the_next(
    new_game: Callable[..., Game], deck: list[str]
) -> None:
    game = showdown_then_hand_over(new_game, deck)
    loaded = ENGINE.load("game-1", game.settings, json.loads(canonical(game.table.dump())))
    own = {0: ["9c", "9d"], 1: ["Kh", "Kd"], 2: ["7c", "2d"], 3: ["As", "Ah"]}
    for player in [*game.players, None]:
        view = loaded.view(player)
        assert (view["phase"], view["toAct"], view["pots"]) == ("hand_over", None, [])
        assert view["board"] == SHOWDOWN_BOARD
        me = None if player is None else loaded.seat_of(player)
        seats = {s["seat"]: s for s in view["seats"]}
        assert {n: s["holeCards"] for n, s in seats.items()} == {
            n: cards if n in (1, 3) or n == me else None for n, cards in own.items()
        }
        assert {n: s["stack"] for n, s in seats.items()} == {0: 200, 1: 198, 2: 198, 3: 204}
        assert [n for n, s in seats.items() if s["folded"]] == [0]
    assert game.views(loaded) == game.views()
    # The next hand clears the board and the shown hands, on the loaded table as on the live one.
    for event in game.tick(game.table.next_deadline()):
        loaded.apply(event)
    assert game.views(loaded) == game.views()
    view = loaded.view(None)
    assert view["phase"] == "preflop"
    assert view["board"] == []
    assert all(s["holeCards"] is None for s in view["seats"])
    game.assert_consistent()


def test_load_refuses_an_impossible_ended_hand(
    new_game: Callable[..., Game], deck: list[str]
) -> None:
    game = showdown_then_hand_over(new_game, deck)
    dump = game.table.dump()
    for key, value in [
        ("c", "AsAs"),
        ("c", "KhKd7c2dAsAh9c"),
        ("b", "3s8h"),
        ("b", "3s8hJc4dAs"),
        ("s", [1, 2, 3, 7]),
        ("s", [1, 1, 3, 0]),
        ("f", [0, 1, 2, 3]),
        ("f", [5]),
        ("w", [4]),
    ]:
        broken = json.loads(canonical(dump))
        broken["h"][key] = value
        with pytest.raises(ValueError, match="not a valid poker table dump"):
            ENGINE.load("game-1", game.settings, broken)


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"v": 2},
        {"v": 1, "q": 1, "st": "x", "n": 0, "p": []},
        {"v": 1, "q": -1, "st": "w", "n": 0, "p": []},
        {"v": 1, "q": 1, "st": "w", "n": 0, "p": [[7, "p", "n", 200]]},
        {"v": 1, "q": 1, "st": "w", "n": 0, "p": [[0, "p", 5, 200]]},
    ],
)
def test_load_refuses_what_is_not_a_dump(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a valid poker table dump"):
        ENGINE.load("g", {}, broken)


def test_load_refuses_an_impossible_hand(new_game: Callable[..., Game]) -> None:
    game = mid_hand(new_game, 3)
    dump = game.table.dump()
    for key, value in [("c", "AsAs"), ("a", "cr999999"), ("b", "2c"), ("s", [0, 1, 2, 3])]:
        broken = json.loads(canonical(dump))
        broken["h"][key] = value
        with pytest.raises(ValueError, match="not a valid poker table dump"):
            ENGINE.load("game-1", game.settings, broken)


def refuses(game: Game, event: Event, match: str) -> None:
    before = game.table.dump()
    with pytest.raises(ValueError, match=match):
        game.table.apply(event)
    assert game.table.dump() == before


def test_apply_refuses_events_that_do_not_fit(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3)
    game.start()
    seq, at = game.table.seq, game.now
    actor = game.to_act

    def event(kind: str, **data: Any) -> Event:
        return Event(seq=seq + 1, kind=kind, at=at, data=data)

    refuses(game, replace(event("action", seat=actor, type="fold", amount=0), seq=seq), "seq")
    refuses(game, replace(event("action", seat=actor, type="fold", amount=0), seq=seq + 2), "seq")
    refuses(game, event("card_trick"), "unknown kind")
    refuses(game, event("action", seat=actor, type="fold"), "amount")
    refuses(game, event("action", seat=actor, type="dance", amount=0), "type")
    refuses(game, event("action", seat=(actor + 1) % 3, type="fold", amount=0), "to act")
    refuses(game, event("action", seat=actor, type="call", amount=5), "for 2")
    refuses(game, event("action", seat=actor, type="raise", amount=1), "invalid_action")
    refuses(game, event("timeout", seat=actor, action="fold"), "clock")
    refuses(game, event("street", street="flop", cards=["2c", "3c", "4c"]), "no board cards")
    owner = game.player_at(actor)
    refuses(game, event("hole_cards", seat=actor, playerId=owner, cards=["2c", "Xx"]), "not a card")
    refuses(
        game, event("hole_cards", seat=actor, playerId="stranger", cards=["2c", "3c"]), "sit there"
    )
    refuses(
        game, event("hand_started", handNumber=2, button=1, seats=[2, 0, 1], sb=2, bb=0), "hand"
    )
    refuses(game, event("hand_ended", handNumber=1, stacks={}), "still being played")
    refuses(game, event("player_joined", seat=0, playerId="x", name="X", stack=200), "not free")
    refuses(game, event("player_joined", seat=3, playerId="x", name="X", stack=5), "chips")
    refuses(game, event("game_completed", seat=0, playerId=game.players[0]), "cannot complete")
    game.table.apply(event("action", seat=actor, type="fold", amount=0))
    assert game.table.seq == seq + 1


def test_apply_refuses_a_card_dealt_twice(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2, seats=2)
    started = [e for e in game.start() if e.kind != "hole_cards"]
    first_hole = next(e for e in game.log if e.kind == "hole_cards")
    fresh = ENGINE.new_game("game-1", game.settings)
    for e in game.log[: first_hole.seq - 1]:
        fresh.apply(e)
    fresh.apply(first_hole)
    twice = Event(
        seq=first_hole.seq + 1,
        kind="hole_cards",
        at=first_hole.at,
        data={"seat": 0, "playerId": game.player_at(0), "cards": list(first_hole.data["cards"])},
    )
    with pytest.raises(ValueError, match="already dealt"):
        fresh.apply(twice)
    assert started


def test_snapshot_restored_only_moves_the_seq_on(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2)
    before = game.table.dump()
    game.table.apply(Event(seq=3, kind="snapshot_restored", at=game.now, data={"version": 2}))
    after = game.table.dump()
    assert after.pop("q") == 3
    before.pop("q")
    assert after == before
