"""The poker table's event log in words (`rejoin.browser.poker_log`): players by name, seats
counted from 1, amounts as a poker player reads them, and the winning hand named from the cards."""

from __future__ import annotations

from typing import Any

import pytest

from rejoin.browser.poker_log import PokerLog, cards_text, hand_phrase, seat_label
from rejoin_server.games.poker import events as poker_events


def event(seq: int, kind: str, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "at": 0, "data": data}


def seated(*names: str) -> PokerLog:
    log = PokerLog()
    for seat, name in enumerate(names):
        log.line(
            event(seat + 1, "player_joined", seat=seat, playerId=f"p{seat}", name=name, stack=200)
        )
    return log


def test_seats_are_counted_from_one() -> None:
    assert seat_label(0) == "seat 1"
    assert seat_label(8) == "seat 9"
    assert seat_label(None) == "a seat"
    assert seat_label(True) == "a seat"


def test_cards_read_with_suits_and_a_ten() -> None:
    assert cards_text(["Kd", "Th", "2s", "Ac"]) == "K♦ 10♥ 2♠ A♣"
    assert cards_text(None) == ""


def test_a_hand_plays_out_as_a_poker_log() -> None:
    log = PokerLog()
    lines = [
        log.line(e)
        for e in [
            event(1, "player_joined", seat=0, playerId="a", name="alice", stack=200),
            event(2, "player_joined", seat=1, playerId="b", name="bob", stack=200),
            event(3, "player_joined", seat=2, playerId="c", name="carol", stack=200),
            event(4, "hand_started", handNumber=1, button=2, seats=[0, 1, 2], sb=0, bb=1),
            event(5, "blind_posted", seat=0, blind="small", amount=1),
            event(6, "blind_posted", seat=1, blind="big", amount=2),
            event(7, "hole_cards", seat=0, playerId="a", cards=None),
            event(8, "hole_cards", seat=1, playerId="b", cards=["Kd", "Kh"]),
            event(9, "action", seat=2, type="call", amount=2),
            event(10, "action", seat=0, type="fold", amount=0),
            event(11, "action", seat=1, type="raise", amount=8),
            event(12, "action", seat=2, type="call", amount=6),
            event(13, "street", street="flop", cards=["Ks", "7c", "2d"]),
            event(14, "action", seat=1, type="bet", amount=10),
            event(15, "timeout", seat=2, action="fold"),
            event(16, "pot_awarded", amount=27, seats=[1], winners=[{"seat": 1, "amount": 27}]),
            event(17, "hand_ended", handNumber=1, stacks={"0": 199, "1": 211, "2": 190}),
        ]
    ]
    assert lines == [
        "alice sits down at seat 1 with 200 chips",
        "bob sits down at seat 2 with 200 chips",
        "carol sits down at seat 3 with 200 chips",
        "hand #1 begins; carol has the button",
        "alice posts the small blind 1",
        "bob posts the big blind 2",
        "alice is dealt two cards",
        "bob is dealt K♦ K♥",
        "carol calls 2",
        "alice folds",
        "bob raises to 8",
        "carol calls 6",
        "the flop: K♠ 7♣ 2♦",
        "bob bets 10",
        "carol ran out of time and folds",
        "bob wins 27",  # nobody showed: no hand is named
        "hand #1 is over",
    ]


def test_the_winner_is_named_with_the_hand_that_won() -> None:
    log = seated("alice", "bob")
    log.line(event(3, "hand_started", handNumber=1, button=0, seats=[1, 0], sb=1, bb=0))
    log.line(event(4, "street", street="flop", cards=["Ks", "7c", "2d"]))
    log.line(event(5, "street", street="turn", cards=["9h"]))
    log.line(event(6, "street", street="river", cards=["3s"]))
    shown = log.line(
        event(
            7,
            "showdown",
            hands=[
                {"seat": 0, "cards": ["Kd", "Qh"], "hand": "One pair"},
                {"seat": 1, "cards": ["7d", "7h"], "hand": "Three of a kind"},
            ],
        )
    )
    assert shown == "alice shows K♦ Q♥ (a pair of kings); bob shows 7♦ 7♥ (three sevens)"
    won = log.line(
        event(8, "pot_awarded", amount=12, seats=[0, 1], winners=[{"seat": 1, "amount": 12}])
    )
    assert won == "bob wins 12 with three sevens"
    split = log.line(
        event(
            9,
            "pot_awarded",
            amount=12,
            seats=[0, 1],
            winners=[{"seat": 0, "amount": 6}, {"seat": 1, "amount": 6}],
        )
    )
    assert split == "the pot of 12 is split: alice 6, bob 6"


def test_a_page_that_came_back_mid_hand_names_only_the_kind_of_hand() -> None:
    """Without the hand's start the page has not seen every street: the board it knows is not
    the whole board, so the cards are not read for the details."""
    log = seated("alice", "bob")
    log.line(event(3, "street", street="river", cards=["3s"]))
    log.line(event(4, "showdown", hands=[{"seat": 0, "cards": ["Kd", "Kh"], "hand": "One pair"}]))
    assert log.line(
        event(5, "pot_awarded", amount=4, seats=[0, 1], winners=[{"seat": 0, "amount": 4}])
    ) == ("alice wins 4 with a pair")


def test_names_come_from_the_view_when_the_joins_were_not_seen() -> None:
    log = PokerLog()
    assert log.line(event(40, "action", seat=3, type="check", amount=0)) == "seat 4 checks"
    log.learn_view({"seats": [{"seat": 3, "name": "dora"}, {"seat": 0, "name": None}]})
    assert (
        log.line(event(41, "action", seat=3, type="allin", amount=150)) == "dora goes all-in to 150"
    )
    assert log.line(event(42, "action", seat=0, type="check", amount=0)) == "seat 1 checks"


def test_a_resync_says_so_and_takes_the_names_and_board_it_brings() -> None:
    log = PokerLog()
    state = {"seq": 30, "board": ["Ah", "Ad", "5c"], "seats": [{"seat": 1, "name": "bob"}]}
    assert log.line(event(30, "resync", gameState=state)) == "state refreshed at seq 30"
    log.line(event(31, "street", street="turn", cards=["5s"]))
    log.line(event(32, "showdown", hands=[{"seat": 1, "cards": ["Kd", "2h"], "hand": "Two pair"}]))
    assert log.line(
        event(33, "pot_awarded", amount=9, seats=[1], winners=[{"seat": 1, "amount": 9}])
    ) == ("bob wins 9 with two pair, aces and fives")


def test_the_end_of_the_game_and_a_rollback() -> None:
    log = seated("alice", "bob")
    assert log.line(event(9, "game_completed", seat=1, playerId="p1")) == "bob wins the game"
    assert (
        log.line(event(9, "game_completed", reason="abandoned")) == "the game is over (abandoned)"
    )
    assert log.line(event(10, "snapshot_restored")) == (
        "an operator rolled the table back to an earlier state"
    )
    rolled = event(11, "snapshot_restored", version=4, reason="misdeal", handNumber=2)
    assert log.line(rolled) == "an operator rolled the table back to hand #2: misdeal"
    first = event(12, "snapshot_restored", version=1, reason="test", handNumber=0)
    assert log.line(first) == "an operator rolled the table back to before the first hand: test"


def test_a_rollback_forgets_the_hands_shown() -> None:
    log = seated("alice", "bob")
    log.line(event(3, "hand_started", handNumber=1, button=0))
    log.line(event(8, "showdown", hands=[{"seat": 1, "cards": ["Kd", "2h"], "hand": "Two pair"}]))
    log.line(event(9, "snapshot_restored", version=2, reason="x", handNumber=0))
    line = log.line(
        event(10, "pot_awarded", amount=9, seats=[1], winners=[{"seat": 1, "amount": 9}])
    )
    assert "two pair" not in line


def test_an_unknown_kind_shows_its_plain_fields_with_the_seat_from_one() -> None:
    log = seated("alice")
    line = log.line(event(5, "rebuy", seat=0, amount=100, note={"nested": True}))
    assert line == "rebuy: alice, amount 100"
    assert log.line(event(6, "tick")) == "tick"
    assert len(log.line(event(7, "chat", text="x" * 500))) == 160


def test_every_kind_the_poker_server_writes_has_its_own_words() -> None:
    kinds = {
        value
        for name, value in vars(poker_events).items()
        if name.isupper() and isinstance(value, str) and name not in ("ACTION_TYPES",)
    }
    log = PokerLog()
    for kind in kinds:
        assert not log.line(event(1, kind)).startswith(f"{kind}:"), kind
        assert log.line(event(1, kind)) != kind, kind


@pytest.mark.parametrize(
    ("label", "cards", "phrase"),
    [
        ("High card", ["Ah", "Jd", "9c", "7s", "3h", "2d", "4c"], "ace high"),
        ("One pair", ["Kd", "Kh", "9c", "7s", "3h"], "a pair of kings"),
        ("Two pair", ["Kd", "Kh", "9c", "9s", "3h", "3d", "Ac"], "two pair, kings and nines"),
        ("Three of a kind", ["6d", "6h", "6c", "7s", "3h"], "three sixes"),
        ("Straight", ["Ah", "2d", "3c", "4s", "5h", "Kd", "9c"], "a straight, five high"),
        ("Straight", ["Th", "Jd", "Qc", "Ks", "Ah", "9d"], "a straight, ace high"),
        ("Flush", ["Qh", "2h", "7h", "9h", "3h", "Ad"], "a flush, queen high"),
        (
            "Full house",
            ["Qh", "Qd", "Qc", "9h", "9s", "9d", "2c"],
            "a full house, queens full of nines",
        ),
        ("Four of a kind", ["Td", "Th", "Tc", "Ts", "2h"], "four tens"),
        (
            "Straight flush",
            ["5d", "6d", "7d", "8d", "9d", "Td", "Ad"],
            "a straight flush, ten high",
        ),
        ("One pair", ["Kd", "Kh", "9c"], "a pair"),  # the board is not known
        ("Royal mess", ["Kd", "Kh", "9c", "7s", "3h"], "royal mess"),  # a name this page lacks
    ],
)
def test_a_hand_is_named_from_its_cards(label: str, cards: list[str], phrase: str) -> None:
    assert hand_phrase(label, cards) == phrase
