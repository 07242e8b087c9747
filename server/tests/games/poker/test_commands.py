"""Join, Start and Act refused with the right error code, leaving the table untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rejoin_server.games.base import Act, Command, GameRuleError, Join, Start

Game = Any  # conftest's Driver


def refused(game: Game, command: Command, code: str) -> str:
    before = game.table.dump()
    seq = game.table.seq
    with pytest.raises(GameRuleError) as info:
        game.table.handle(command, game.now)
    assert info.value.code == code, info.value
    assert game.table.dump() == before
    assert game.table.seq == seq
    return str(info.value.message)


# Join.


def test_join_takes_the_lowest_free_seat_unless_one_is_asked(new_game: Callable[..., Game]) -> None:
    game = new_game(players=0, seats=4)
    game.join(seat=2)
    first = game.join()
    second = game.join()
    assert game.table.seat_of(first) == 0
    assert game.table.seat_of(second) == 1
    joined = game.log[0]
    assert joined.kind == "player_joined"
    assert dict(joined.data) == {
        "seat": 2,
        "playerId": "player000000",
        "name": "Player 1",
        "stack": 200,
    }


def test_join_errors(new_game: Callable[..., Game]) -> None:
    game = new_game(players=0, seats=2)
    game.join(seat=1)
    # A message that names a seat says how seats are counted (the API's, from 0).
    assert "Seat 1 (numbered from 0)" in refused(game, Join("newcomer0001", "Ann", 1), "seat_taken")
    refused(game, Join("newcomer0001", "Ann", 2), "invalid_request")
    refused(game, Join("newcomer0001", "Ann", -1), "invalid_request")
    refused(game, Join("newcomer0001", "   ", None), "invalid_request")
    refused(game, Join("newcomer0001", "x" * 33, None), "invalid_request")
    refused(game, Join("", "Ann", None), "invalid_request")
    again = refused(game, Join("player000000", "Again", None), "invalid_request")
    assert "already sit at seat 1 (numbered from 0)" in again
    game.join(name="x" * 32)
    refused(game, Join("newcomer0001", "Ann", None), "table_full")
    refused(game, Join("newcomer0001", "Ann", 0), "seat_taken")


def test_join_while_a_hand_runs_sits_out_until_the_next(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2, seats=3)
    game.start()
    late = game.join()
    assert game.table.seat_of(late) == 2
    assert game.table.hand.seats == (1, 0)
    view = game.table.view(late)
    assert view["you"]["legalActions"] == []
    assert next(s for s in view["seats"] if s["seat"] == 2)["holeCards"] is None
    refused(game, Act(late, "fold"), "not_your_turn")
    game.act("fold")
    game.tick(game.table.next_deadline())
    assert sorted(game.table.hand.seats) == [0, 1, 2]
    game.assert_consistent()


def test_join_after_the_game_is_over(new_game: Callable[..., Game], deck: list[str]) -> None:
    game = new_game(players=2, startingStack=2, bigBlind=2, smallBlind=1)
    deck.extend(["As", "Ad", "7c", "2d", "Kh", "Qs", "Js", "3c", "4h"])
    game.start()
    game.act("call")  # the button's last chip against the big blind's: run out, aces win
    assert game.table.status == "completed"
    assert game.log[-1].kind == "game_completed"
    assert dict(game.log[-1].data) == {"seat": 1, "playerId": "player000001"}
    assert game.table.next_deadline() is None
    assert game.tick(game.now + 10**9) == []
    refused(game, Join("newcomer0001", "Ann", None), "game_completed")
    refused(game, Start(game.players[0]), "game_completed")
    refused(game, Act(game.players[0], "check"), "game_completed")


# Start.


def test_start_errors(new_game: Callable[..., Game]) -> None:
    game = new_game(players=1)
    refused(game, Start("stranger0001"), "player_not_in_game")
    message = refused(game, Start(game.players[0]), "invalid_action")
    assert "2 players" in message
    game.join()
    game.start()
    refused(game, Start(game.players[1]), "hand_in_progress")


def test_start_again_when_hands_do_not_follow_on_their_own(new_game: Callable[..., Game]) -> None:
    game = new_game(players=2, autoNextHand=False)
    game.start()
    game.act("fold")
    assert game.table.view(None)["phase"] == "hand_over"
    assert game.table.next_deadline() is None
    assert game.tick(game.now + 10**9) == []
    game.start(game.players[1])
    assert game.table.hand_number == 2


# Act.


def test_act_errors(new_game: Callable[..., Game]) -> None:
    game = new_game(players=3)
    refused(game, Act(game.players[0], "check"), "no_hand_in_progress")
    game.start()
    refused(game, Act("stranger0001", "fold"), "player_not_in_game")
    actor = game.to_act
    assert actor == 0  # button 0, blinds 1 and 2, first to act is the button
    waiting = game.player_at(1)
    turn = refused(game, Act(waiting, "call"), "not_your_turn")
    assert "seat 0's turn, not yours (seat 1; seats are numbered from 0)" in turn
    me = game.player_at(actor)
    assert "call 2" in refused(game, Act(me, "check"), "invalid_action")
    assert "raise" in refused(game, Act(me, "bet", {"amount": 10}), "invalid_action")
    assert "from 4 to 200" in refused(game, Act(me, "raise", {"amount": None}), "invalid_action")
    assert "from 4 to 200" in refused(game, Act(me, "raise", {"amount": 3}), "invalid_action")
    refused(game, Act(me, "raise", {"amount": 201}), "invalid_action")
    refused(game, Act(me, "raise", {"amount": True}), "invalid_action")
    refused(game, Act(me, "raise", {"amount": "10"}), "invalid_action")
    refused(game, Act(me, "allin", {"amount": 150}), "invalid_action")
    assert "one of" in refused(game, Act(me, "shove"), "invalid_action")
    assert "leave out size" in refused(game, Act(me, "raise", {"size": 10}), "invalid_action")
    refused(game, Act(me, "raise", {"amount": -4}), "invalid_action")
    game.act("call")
    game.act("call")
    game.act("check")  # the big blind closes the round: flop
    me = game.player_at(game.to_act)
    assert "check" in refused(game, Act(me, "fold"), "invalid_action")
    assert "nothing to call" in refused(game, Act(me, "call"), "invalid_action")
    assert "use bet" in refused(game, Act(me, "raise", {"amount": 4}), "invalid_action")
    refused(game, Act(me, "bet", {"amount": 1}), "invalid_action")
    game.act("bet", 2)
    game.assert_consistent()
