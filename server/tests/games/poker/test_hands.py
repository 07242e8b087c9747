"""Hand flow: blinds and button, dealing order, all-in run-outs, side pots, showdown, busting, the end
of the game. Cards are rigged with the `deck` fixture (dealt from the button's left, then board)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rejoin_server.games.base import Event

Game = Any  # conftest's Driver


def data_of(game: Game, kind: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in game.log if e.kind == kind]


def test_heads_up_button_posts_small_blind_and_acts_first_preflop(
    new_game: Callable[..., Game], kinds_of: Callable[..., list[str]]
) -> None:
    game = new_game(players=2)
    events = game.start()
    assert kinds_of(events) == [
        "hand_started",
        "blind_posted",
        "blind_posted",
        "hole_cards",
        "hole_cards",
    ]
    assert dict(events[0].data) == {"handNumber": 1, "button": 0, "seats": [1, 0], "sb": 0, "bb": 1}
    assert dict(events[1].data) == {"seat": 0, "blind": "small", "amount": 1}
    assert dict(events[2].data) == {"seat": 1, "blind": "big", "amount": 2}
    assert [e.data["seat"] for e in events[3:]] == [1, 0]
    assert all(len(e.data["cards"]) == 2 for e in events[3:])
    assert game.to_act == 0
    game.act("call")
    assert game.to_act == 1  # the big blind's option
    game.act("check")
    assert game.table.view(None)["phase"] == "flop"
    assert game.to_act == 1  # after the flop the big blind acts first
    game.act("bet", 2)
    game.act("fold")
    ended = data_of(game, "hand_ended")[-1]
    assert ended == {"handNumber": 1, "stacks": {"0": 198, "1": 202}}
    game.tick(game.table.next_deadline())
    second = data_of(game, "hand_started")[-1]
    assert second == {"handNumber": 2, "button": 1, "seats": [0, 1], "sb": 1, "bb": 0}
    assert game.to_act == 1
    game.assert_consistent()


def test_button_moves_to_the_next_seat_with_chips(new_game: Callable[..., Game]) -> None:
    game = new_game(players=0, seats=6)
    for seat in (1, 3, 4):
        game.join(seat=seat)
    buttons, orders = [], []
    game.start()
    for _ in range(4):
        started = data_of(game, "hand_started")[-1]
        buttons.append(started["button"])
        orders.append(started["seats"])
        assert (started["sb"], started["bb"]) == (started["seats"][0], started["seats"][1])
        while game.to_act is not None:
            game.act("fold")
        game.tick(game.table.next_deadline())
    assert buttons == [1, 3, 4, 1]
    assert orders[:3] == [[3, 4, 1], [4, 1, 3], [1, 3, 4]]
    game.assert_consistent()


def test_three_way_all_in_with_side_pots(
    new_game: Callable[..., Game], deck: list[str], kinds_of: Callable[..., list[str]]
) -> None:
    game = new_game(players=3, startingStack=100)
    # Hand 1 (button 0; deal order 1, 2, 0) leaves stacks 100 / 50 / 150.
    deck.extend(["7c", "2d", "As", "Ah", "Kc", "Qd", "9c", "8d", "3h", "4s", "Jc"])
    game.start()
    game.act("fold")  # seat 0, the button, is first to act three-handed
    game.act("raise", 50)  # seat 1
    game.act("call")  # seat 2
    for _ in range(6):
        game.act("check")
    assert data_of(game, "hand_ended")[-1]["stacks"] == {"0": 100, "1": 50, "2": 150}
    # Hand 2 (button 1; deal order 2, 0, 1): seat 1 (50) has aces, seat 0 (100) kings, seat 2 (150)
    # nothing. Main pot 150 to seat 1, side pot 100 to seat 0, seat 2's last 50 uncalled.
    deck.extend(["7c", "2d", "Ks", "Kd", "As", "Ah", "9c", "8d", "3h", "4s", "Jc"])
    game.tick(game.table.next_deadline())
    assert game.to_act == 1
    assert {"type": "allin", "amount": 50} in game.legal()
    game.act("allin")
    game.act("allin", 150)  # seat 2, small blind
    view = game.table.view(None)
    assert view["toAct"] == 0
    assert {"type": "call", "amount": 98} in game.legal()
    assert {"type": "allin", "amount": 100} in game.legal()
    assert not any(a["type"] == "raise" for a in game.legal())
    events = game.act("allin")
    assert kinds_of(events) == [
        "action",
        "street",
        "street",
        "street",
        "showdown",
        "pot_awarded",
        "pot_awarded",
        "hand_ended",
    ]
    assert dict(events[0].data) == {"seat": 0, "type": "allin", "amount": 100}
    assert [e.data["street"] for e in events[1:4]] == ["flop", "turn", "river"]
    shown = {h["seat"]: h for h in events[4].data["hands"]}
    assert set(shown) == {0, 1, 2}
    assert shown[1] == {"seat": 1, "cards": ["As", "Ah"], "hand": "One pair"}
    assert shown[2]["hand"] == "High card"
    awards = [dict(e.data) for e in events[5:7]]
    assert [(a["amount"], a["winners"]) for a in awards] == [
        (150, [{"seat": 1, "amount": 150}]),
        (100, [{"seat": 0, "amount": 100}]),
    ]
    assert dict(events[-1].data) == {"handNumber": 2, "stacks": {"0": 100, "1": 150, "2": 50}}
    view = game.table.view(game.players[2])
    assert view["phase"] == "hand_over"
    assert view["board"] == ["9c", "8d", "3h", "4s", "Jc"]
    assert all(s["holeCards"] is not None for s in view["seats"])
    game.assert_consistent()


def test_pots_while_a_side_pot_is_open(uneven_stacks: Game) -> None:
    game = uneven_stacks  # stacks 100 / 50 / 150
    game.act("allin")  # seat 1: 50
    game.act("call")  # seat 2: 50 of 150
    game.act("call")  # seat 0, big blind: 50 of 100
    view = game.table.view(None)
    assert view["phase"] == "flop"
    assert view["pots"] == [{"amount": 150, "eligibleSeats": [0, 1, 2]}]
    assert [s["allIn"] for s in view["seats"]] == [False, True, False]
    game.act("bet", 20)
    game.act("call")
    assert game.table.view(None)["pots"] == [
        {"amount": 150, "eligibleSeats": [0, 1, 2]},
        {"amount": 40, "eligibleSeats": [0, 2]},
    ]
    game.assert_consistent()


def test_showdown_shows_the_winner_and_lets_a_beaten_hand_muck(
    new_game: Callable[..., Game], deck: list[str]
) -> None:
    game = new_game(players=2)
    # Seat 1 (big blind) shows first and has the better hand: seat 0 mucks.
    deck.extend(["As", "Ah", "7c", "2d", "9c", "8d", "3h", "4s", "Jc"])
    game.start()
    game.act("call")
    for _ in range(7):
        game.act("check")
    assert data_of(game, "showdown")[-1] == {
        "hands": [{"seat": 1, "cards": ["As", "Ah"], "hand": "One pair"}]
    }
    seats = game.table.view(game.players[0])["seats"]
    assert seats[1]["holeCards"] == ["As", "Ah"]
    assert seats[0]["holeCards"] == ["7c", "2d"]  # one's own cards stay visible
    assert game.table.view(game.players[1])["seats"][0]["holeCards"] is None
    assert game.table.view(None)["seats"][0]["holeCards"] is None
    # Next hand the order flips: seat 0 shows first with the worse hand, so both show.
    deck.extend(["7c", "2d", "Kd", "Kh", "9c", "8d", "3h", "4s", "Jc"])
    game.tick(game.table.next_deadline())
    game.act("call")
    for _ in range(7):
        game.act("check")
    hands = data_of(game, "showdown")[-1]["hands"]
    assert [(h["seat"], h["hand"]) for h in hands] == [(0, "High card"), (1, "One pair")]
    spectator = game.table.view(None)["seats"]
    assert [s["holeCards"] for s in spectator] == [["7c", "2d"], ["Kd", "Kh"]]
    game.assert_consistent()


def test_everyone_folds_pot_goes_to_the_last_player_unseen(new_game: Callable[..., Game]) -> None:
    game = new_game(players=4)
    game.start()
    events = []
    for _ in range(3):
        events += game.act("fold")
    assert "showdown" not in [e.kind for e in events]
    assert data_of(game, "pot_awarded") == [
        {"amount": 1, "seats": [2], "winners": [{"seat": 2, "amount": 1}]}
    ]
    assert data_of(game, "hand_ended")[-1]["stacks"] == {"0": 200, "1": 199, "2": 201, "3": 200}
    for player in game.players:
        view = game.table.view(player)
        mine = game.table.seat_of(player)
        for seat in view["seats"]:
            assert (seat["holeCards"] is not None) == (seat["seat"] == mine)
    game.assert_consistent()


def test_busted_player_stays_seated_but_is_not_dealt_in(
    new_game: Callable[..., Game], deck: list[str]
) -> None:
    game = new_game(players=3, startingStack=20)
    # Button 0, order 1, 2, 0: seat 1 all in with the worst hand, seat 2 calls with aces.
    deck.extend(["7c", "2d", "As", "Ah", "Kc", "Qd", "9c", "8d", "3h", "4s", "Jc"])
    game.start()
    game.act("fold")
    game.act("allin")
    game.act("call")
    assert data_of(game, "hand_ended")[-1]["stacks"] == {"0": 20, "1": 0, "2": 40}
    assert game.table.status == "playing"
    game.tick(game.table.next_deadline())
    started = data_of(game, "hand_started")[-1]
    assert started["seats"] == [0, 2]  # button skips seat 1 and moves to seat 2
    assert started["button"] == 2
    busted = next(s for s in game.table.view(None)["seats"] if s["seat"] == 1)
    assert busted == {
        "seat": 1,
        "playerId": "player000001",
        "name": "Player 2",
        "stack": 0,
        "bet": 0,
        "folded": False,
        "allIn": False,
        "connected": False,
        "holeCards": None,
    }
    game.assert_consistent()


def test_game_completes_when_one_player_holds_every_chip(
    all_in_called: tuple[Game, list[Event]],
) -> None:
    game, events = all_in_called
    assert [e.kind for e in events][-2:] == ["hand_ended", "game_completed"]
    assert dict(events[-1].data) == {"seat": 1, "playerId": "player000001"}
    view = game.table.view(None)
    assert view["status"] == "completed"
    assert view["phase"] == "hand_over"
    assert game.table.next_deadline() is None
    game.assert_consistent()
