"""Every refusal has its error code and a message saying what to do, and leaves the game exactly as
it was: the same seq, the same dump, the same view for everyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liars_dice import LiarsDiceEngine
from rejoin_server.games import Abandon, Act, Command, GameRuleError, Join, Start

from .driver import Driver


def refused(game: Driver, command: Command, code: str, message: str = "") -> GameRuleError:
    before_dump, before_views = (
        game.game.dump(),
        {p: game.game.view(p) for p in [*game.players, None]},
    )
    before_deadline = game.game.next_deadline()
    with pytest.raises(GameRuleError) as caught:
        game.game.handle(command, game.now)
    assert caught.value.code == code, caught.value
    assert message in caught.value.message
    assert game.game.dump() == before_dump
    assert {p: game.game.view(p) for p in [*game.players, None]} == before_views
    assert game.game.next_deadline() == before_deadline
    game.assert_consistent()
    return caught.value


def bidding() -> Driver:
    """Three players in round 1; seat 0 bid 2 x 3, seat 1 is to act."""
    game = Driver(players=3, dice=2)
    game.start([1, 3], [3, 5], [2, 2])
    game.bid(2, 3)
    return game


def act(seat: int, type_: str, **fields: Any) -> Callable[[Driver], Command]:
    return lambda game: Act(game.player_at(seat), type_, fields)


ACT_REFUSALS = [
    # (command, code, part of the message)
    pytest.param(
        act(0, "bid", count=3, face=3), "not_your_turn", "seat 1's turn", id="out-of-turn"
    ),
    pytest.param(act(1, "bid", count=2, face=3), "invalid_action", "Bid higher", id="same-bid"),
    pytest.param(act(1, "bid", count=2, face=2), "invalid_action", "Bid higher", id="lower-face"),
    pytest.param(act(1, "bid", count=1, face=6), "invalid_action", "Bid higher", id="lower-count"),
    pytest.param(act(1, "bid", count=7, face=3), "invalid_action", "from 1 to 6", id="count-high"),
    pytest.param(act(1, "bid", count=0, face=3), "invalid_action", "from 1 to 6", id="count-zero"),
    pytest.param(act(1, "bid", count=3, face=7), "invalid_action", "`face`", id="face-7"),
    pytest.param(act(1, "bid", count=3, face=0), "invalid_action", "`face`", id="face-0"),
    pytest.param(act(1, "bid", count=3), "invalid_action", "needs `face`", id="no-face"),
    pytest.param(act(1, "bid", face=4), "invalid_action", "needs `count`", id="no-count"),
    pytest.param(act(1, "bid", count="3", face=4), "invalid_action", "whole number", id="string"),
    pytest.param(act(1, "bid", count=3.5, face=4), "invalid_action", "whole number", id="fraction"),
    pytest.param(act(1, "bid", count=True, face=4), "invalid_action", "whole number", id="bool"),
    pytest.param(act(1, "bid", count=3, face=None), "invalid_action", "whole number", id="null"),
    pytest.param(
        act(1, "bid", count=3, face=4, amount=1), "invalid_action", "leave out amount", id="extra"
    ),
    pytest.param(act(1, "challenge", count=1), "invalid_action", "leave out count", id="ch-extra"),
    pytest.param(act(1, "raise"), "invalid_action", "Unknown action type 'raise'", id="type"),
    pytest.param(
        lambda game: Act("stranger", "challenge"), "player_not_in_game", "join it", id="stranger"
    ),
]


@pytest.mark.parametrize(("make", "code", "message"), ACT_REFUSALS)
def test_a_refused_move_leaves_the_round_untouched(
    make: Callable[[Driver], Command], code: str, message: str
) -> None:
    game = bidding()
    refused(game, make(game), code, message)
    # And the round goes on from there.
    game.bid(3, 3)
    game.assert_consistent()


def test_a_whole_number_as_a_float_is_a_number() -> None:
    game = bidding()
    game.act("bid", count=3.0, face=4.0)
    assert game.log[-1].data == {"seat": 1, "count": 3, "face": 4}
    assert all(type(v) is int for v in game.log[-1].data.values())


def test_a_challenge_before_any_bid_is_refused() -> None:
    game = Driver(players=2)
    game.start()
    refused(game, Act("p0", "challenge"), "invalid_action", "no bid to challenge")


def test_moves_between_rounds_and_before_the_start_are_refused() -> None:
    game = Driver(players=2, dice=2)
    refused(game, Act("p0", "bid", {"count": 1, "face": 1}), "no_hand_in_progress", "No round")
    game.start([1, 1], [2, 2])
    game.bid(1, 1)
    game.challenge()
    refused(game, Act("p1", "bid", {"count": 1, "face": 1}), "no_hand_in_progress", "next round")


def test_a_player_who_is_out_is_never_to_act() -> None:
    game = Driver(players=3, dice=1)
    game.start([2], [3], [4])
    game.bid(1, 6)
    game.challenge()  # seat 0 is out
    game.next_round([5], [6])
    error = refused(game, Act("p0", "bid", {"count": 1, "face": 6}), "not_your_turn")
    assert "no dice left" in error.message


def test_start_refusals() -> None:
    game = Driver(players=1)
    refused(game, Start("p0"), "invalid_action", "at least 2 players")
    refused(game, Start("stranger"), "player_not_in_game")
    game.join()
    game.start()
    refused(game, Start("p1"), "hand_in_progress", "Round 1")


def test_join_refusals() -> None:
    game = Driver(players=2, seats=3)
    refused(game, Join("p0", "Again"), "invalid_request", "already sit at seat 0")
    refused(game, Join("new", "Bo", seat=1), "seat_taken", "Seat 1 (numbered from 0) is taken")
    refused(game, Join("new", "Bo", seat=3), "invalid_request", "from 0 to 2")
    refused(game, Join("new", "Bo", seat=True), "invalid_request", "from 0 to 2")
    refused(game, Join("new", "   "), "invalid_request", "1 to 32 characters")
    refused(game, Join("new", "x" * 33), "invalid_request", "1 to 32 characters")
    refused(game, Join("", "Bo"), "invalid_request", "player id")
    game.join(name="x" * 32)
    refused(game, Join("late", "Bo"), "table_full", "Every seat is taken")


def test_nobody_joins_once_the_game_started() -> None:
    game = Driver(players=2, seats=3)
    game.start()
    refused(game, Join("late", "Bo"), "game_active", "join another")


def test_a_completed_game_refuses_everything_but_a_tick() -> None:
    game = Driver(players=2, dice=1)
    game.start([1], [2])
    game.bid(1, 6)
    game.challenge()
    assert game.game.status == "completed"
    for command in (
        Join("late", "Bo"),
        Start("p0"),
        Act("p1", "bid", {"count": 1, "face": 1}),
        Act("stranger", "challenge"),
        Abandon(),
    ):
        refused(game, command, "game_completed", "This game is over")
    assert game.tick(game.now + 10**9) == []


@pytest.mark.parametrize("reason", ["", "x" * 65])
def test_an_abandon_needs_a_short_reason(reason: str) -> None:
    game = Driver(players=2)
    refused(game, Abandon(reason), "invalid_request", "1 to 64 characters")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seats": 1}, "seats must be a whole number from 2 to 6, not 1"),
        ({"seats": 7}, "seats must be a whole number from 2 to 6, not 7"),
        ({"dice": 0}, "dice must be a whole number from 1 to 10"),
        ({"dice": 11}, "dice must be a whole number from 1 to 10"),
        ({"dice": True}, "dice must be a whole number from 1 to 10, not True"),
        ({"dice": "5"}, "dice must be a whole number"),
        ({"dice": 2.5}, "dice must be a whole number"),
        ({"actionTimeoutMs": 999}, "actionTimeoutMs must be a whole number from 1000 to 86400000"),
        ({"actionTimeoutMs": 86_400_001}, "actionTimeoutMs must be a whole number from 1000"),
        ({"nextRoundDelayMs": -1}, "nextRoundDelayMs must be a whole number from 0 to 3600000"),
        ({"nextRoundDelayMs": 3_600_001}, "nextRoundDelayMs must be a whole number from 0"),
        ({"smallBlind": 1}, "unknown setting(s) smallBlind; allowed: seats, dice"),
    ],
)
def test_bad_settings_are_refused_naming_the_key_and_bound(
    settings: dict[str, Any], message: str
) -> None:
    engine = LiarsDiceEngine()
    for make in (engine.settings, lambda raw: engine.new_game("g", raw)):
        with pytest.raises(GameRuleError) as caught:
            make(settings)
        assert caught.value.code == "invalid_request"
        assert message in caught.value.message
