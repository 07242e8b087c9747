"""The rules as README.md states them: joining, rolling, bidding higher, challenges, players out,
the next round's opener, the winner, and abandoning."""

from __future__ import annotations

from liars_dice import LiarsDiceEngine
from rejoin_server.games import Event

from .driver import START, Driver


def kinds(events: list[Event]) -> list[str]:
    return [event.kind for event in events]


def test_players_take_the_first_free_seat_or_the_one_they_ask_for() -> None:
    game = Driver(players=0, seats=4)
    game.join(seat=2, name="  Ann  ")
    game.join()
    game.join()
    view = game.view()
    assert [(s["seat"], s["name"], s["diceCount"]) for s in view["seats"]] == [
        (0, "Player 1", 5),
        (1, "Player 2", 5),
        (2, "Ann", 5),
    ]
    assert view["phase"] == "waiting"
    assert view["status"] == "waiting"
    assert view["round"] == 0
    assert view["toAct"] is None
    assert view["diceInPlay"] == 15


def test_a_start_rolls_every_players_dice_and_the_lowest_seat_opens() -> None:
    game = Driver(players=3, dice=3)
    events = game.start([1, 2, 3], [4, 5, 6], [6, 6, 1])
    assert kinds(events) == ["round_started", "dice_rolled", "dice_rolled", "dice_rolled"]
    assert events[0].data == {"round": 1, "seats": [0, 1, 2]}
    assert [e.data["dice"] for e in events[1:]] == [[1, 2, 3], [4, 5, 6], [6, 6, 1]]
    view = game.view(1)
    assert view["phase"] == "bidding"
    assert view["status"] == "playing"
    assert view["toAct"] == 0
    assert view["actionDeadline"] == START + 30_000
    assert view["you"]["dice"] == [4, 5, 6]
    assert view["currentBid"] is None
    assert view["diceInPlay"] == 9


def test_bids_go_round_the_table_and_each_must_be_higher() -> None:
    game = Driver(players=3, dice=2)
    game.start([1, 1], [2, 2], [3, 3])
    game.bid(1, 4)
    assert game.to_act == 1
    game.bid(1, 5)  # the same count of a higher face
    assert game.to_act == 2
    game.bid(2, 1)  # a higher count of any face
    assert game.to_act == 0
    assert game.view()["currentBid"] == {"seat": 2, "count": 2, "face": 1}
    legal = game.legal()
    assert legal == [
        {
            "type": "bid",
            "fields": {
                "count": {"type": "integer", "minimum": 2, "maximum": 6},
                "face": {"type": "integer", "minimum": 1, "maximum": 6},
            },
        },
        {"type": "challenge"},
    ]
    # Only the player to act has legal actions.
    assert game.view(1)["you"]["legalActions"] == []


def test_after_a_bid_of_every_die_of_face_six_only_a_challenge_is_left() -> None:
    game = Driver(players=2, dice=1)
    game.start([6], [6])
    game.bid(2, 6)
    assert game.legal() == [{"type": "challenge"}]


def test_a_true_bid_costs_the_challenger_a_die_and_the_loser_opens_the_next_round() -> None:
    game = Driver(players=3, dice=2, nextRoundDelayMs=5_000)
    game.start([3, 1], [3, 5], [2, 2])
    game.bid(2, 3)  # seat 0: two 3s, and there are two (the 1 is not wild)
    game.now += 100
    events = game.challenge()  # seat 1
    assert kinds(events) == ["challenged"]
    assert events[0].data == {
        "round": 1,
        "seat": 1,
        "bid": {"seat": 0, "count": 2, "face": 3},
        "matching": 2,
        "loser": 1,
        "reveal": [
            {"seat": 0, "dice": [3, 1]},
            {"seat": 1, "dice": [3, 5]},
            {"seat": 2, "dice": [2, 2]},
        ],
    }
    view = game.view(2)
    assert view["phase"] == "revealed"
    assert view["toAct"] is None
    assert view["currentBid"] is None
    assert view["lastChallenge"] == {
        "seat": 1,
        "bid": {"seat": 0, "count": 2, "face": 3},
        "matching": 2,
        "loser": 1,
    }
    assert [s["diceCount"] for s in view["seats"]] == [2, 1, 2]
    assert [s["dice"] for s in view["seats"]] == [[3, 1], [3, 5], [2, 2]]  # revealed to all
    assert view["diceInPlay"] == 5
    assert game.game.next_deadline() == game.now + 5_000

    assert game.tick(game.now + 4_999) == []  # not yet
    events = game.next_round([4], [1, 1], [5, 5])
    assert events[0].data == {"round": 2, "seats": [1, 2, 0]}  # the loser opens
    assert game.to_act == 1
    view = game.view(0)
    assert [s["dice"] for s in view["seats"]] == [[5, 5], None, None]  # hidden again
    assert view["lastChallenge"]["loser"] == 1


def test_a_false_bid_costs_the_bidder_a_die() -> None:
    game = Driver(players=2, dice=2)
    game.start([1, 2], [3, 4])
    game.bid(2, 6)
    (event,) = game.challenge()
    assert (event.data["matching"], event.data["loser"]) == (0, 0)
    assert [p.dice_count for p in game.game.players.values()] == [1, 2]


def test_a_player_without_dice_is_out_and_the_next_seat_opens() -> None:
    game = Driver(players=3, dice=1)
    game.start([2], [3], [4])
    game.bid(1, 6)  # seat 0 bids a 6 that nobody has
    game.challenge()  # seat 1: seat 0 loses its only die
    view = game.view()
    assert [(s["diceCount"], s["out"]) for s in view["seats"]] == [
        (0, True),
        (1, False),
        (1, False),
    ]
    events = game.next_round([5], [6])
    assert events[0].data == {"round": 2, "seats": [1, 2]}  # seat 0 is skipped
    assert kinds(events) == ["round_started", "dice_rolled", "dice_rolled"]
    assert game.view(0)["you"]["dice"] == []
    game.bid(1, 5)
    assert game.to_act == 2


def test_the_last_player_with_dice_wins() -> None:
    game = Driver(players=2, dice=1)
    game.start([2], [3])
    game.bid(1, 2)
    events = game.challenge()  # true: the challenger, seat 1, is out
    assert kinds(events) == ["challenged", "game_completed"]
    assert events[1].data == {"seat": 0, "playerId": "p0"}
    view = game.view(1)
    assert view["status"] == "completed"
    assert view["phase"] == "completed"
    assert view["winner"] == 0
    assert view["toAct"] is None
    assert view["actionDeadline"] is None
    assert [s["dice"] for s in view["seats"]] == [[2], [3]]  # the last challenge stays shown
    assert game.game.next_deadline() is None
    assert game.tick(game.now + 10**9) == []


def test_a_start_between_rounds_rolls_the_next_round_at_once() -> None:
    game = Driver(players=2, dice=2)
    game.start([1, 1], [2, 2])
    game.bid(1, 1)
    game.challenge()
    events = game.start([3], [4, 4], player="p1")
    assert events[0].data == {"round": 2, "seats": [1, 0]}


def test_abandon_completes_the_game_mid_round_with_the_dice_still_hidden() -> None:
    game = Driver(players=2, dice=2)
    game.start([1, 2], [3, 4])
    game.bid(1, 3)
    (event,) = game.abandon("idle")
    assert (event.kind, event.data) == ("game_completed", {"reason": "idle"})
    view = game.view(0)
    assert view["status"] == "completed"
    assert view["phase"] == "completed"
    assert view["winner"] is None
    assert view["toAct"] is None
    assert view["you"]["legalActions"] == []
    assert [s["dice"] for s in view["seats"]] == [[1, 2], None]
    assert [s["dice"] for s in game.view()["seats"]] == [None, None]
    assert game.game.next_deadline() is None
    game.assert_consistent()


def test_abandon_before_the_start() -> None:
    game = Driver(players=1)
    game.abandon()
    assert game.view()["status"] == "completed"
    game.assert_consistent()


def test_the_engine_completes_settings_with_their_defaults() -> None:
    engine = LiarsDiceEngine()
    assert engine.kind == "liars-dice"
    assert engine.settings({}) == {
        "seats": 4,
        "dice": 5,
        "actionTimeoutMs": 30_000,
        "nextRoundDelayMs": 3_000,
    }
    assert engine.settings({"seats": 6.0, "dice": 1})["seats"] == 6
    schema = engine.settings_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["seats"] == {
        "type": "integer",
        "minimum": 2,
        "maximum": 6,
        "default": 4,
        "description": "Seats at the table.",
    }
    assert set(schema["properties"]) == set(engine.settings({}))
